"""Languages: zh-CN by default, English selectable. Source strings are Chinese (the users'
language); web/translations/en holds the English catalogue."""
from __future__ import annotations

from flask import Flask, redirect, request, session
from flask_babel import Babel

from engine.forms import FormDefinition

LANGUAGES = {"zh_CN": "中文", "en": "English"}
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}
DEFAULT = "zh_CN"


def current_language() -> str:
    lang = session.get("lang")
    return lang if lang in LANGUAGES else DEFAULT


def setup(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    Babel(app, locale_selector=current_language)

    @app.context_processor
    def language_context():
        lang = current_language()
        return {"languages": LANGUAGES, "current_language": lang, "html_lang": HTML_LANG[lang]}

    @app.template_filter("localized")
    def localized(form: FormDefinition) -> dict:
        """A form's schema with its texts in the page's language (the form's own ``translations``)."""
        return form.localized(HTML_LANG[current_language()].split("-")[0]) if current_language() != DEFAULT \
            else form.schema_json


def choose_language(lang: str, target: str):
    from web.pages.session import safe_next

    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(safe_next(target or request.referrer and _local_part(request.referrer)))


def _local_part(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
