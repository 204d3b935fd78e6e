"""Languages: zh-CN by default, English selectable. Source strings are Chinese (the users'
language); web/translations/en holds the English catalogue."""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from flask import Flask, redirect, request, session
from flask_babel import Babel, get_translations, gettext
from markupsafe import Markup, escape

from engine.forms import FormDefinition
from web.pages.formatting import user_data

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

    @app.template_filter("form_word")
    def form_word(text: object) -> object:
        """A form's word (a field label or an option label, as 业务数据 shows it) in the page's
        language, from the forms' own ``translations``."""
        if current_language() == DEFAULT or not isinstance(text, str):
            return text
        from web.context import runtime

        words = form_words(runtime().settings.forms_dir, HTML_LANG[current_language()].split("-")[0])
        return words.get(text, text)

    @app.template_filter("summary")
    def summary(text: str | None) -> Markup:
        """A case's summary (``label：value；…``, engine.case_summary, stored in Chinese): the labels in
        the page's language, each value marked as user data."""
        pairs = [part.partition("：") for part in (text or "").split("；") if part]
        if current_language() == DEFAULT:
            return Markup("；").join(Markup("%s：%s") % (label, user_data(value)) if sep else user_data(label)
                                    for label, sep, value in pairs)
        return Markup("; ").join(Markup("%s: %s") % (form_word(label), user_data(value)) if sep
                                 else user_data(label) for label, sep, value in pairs)

    app.add_template_filter(translated_message, "message")

    @app.template_filter("localized")
    def localized(form: FormDefinition) -> dict:
        """A form's schema with its texts in the page's language (the form's own ``translations``)."""
        return form.localized(HTML_LANG[current_language()].split("-")[0]) if current_language() != DEFAULT \
            else form.schema_json


PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def translated_message(text: object) -> object:
    """A message the code wrote in Chinese (a refusal raised by a service, a stored 校验 finding, an
    incident) in the page's language: its own translation, or that of the catalogue's pattern it was
    formatted from (``第 %(n)s 段经历…``), the values it carries marked as user data — unless a value is
    itself in the catalogue (an incident's problem in words, formatted from a pattern too, or the name of
    a shipped step), which is translated in turn. Services format their messages from such patterns
    (``"…%(name)s…" % dict(name=…)``), never with f-strings, so that the catalogue holds them."""
    if current_language() == DEFAULT or not isinstance(text, str) or not text:
        return text
    translated = _translated(text, values_too=True)
    return text if translated is None else translated


def _translated(text: str, values_too: bool) -> str | Markup | None:
    """``text`` in the page's language (see ``translated_message``); None when the catalogue lacks it.
    ``values_too``: the values of a pattern are looked up as well (one level deep)."""
    translated = gettext(text)
    if translated != text:
        return translated
    for pattern, msgid in _patterns(current_language()):
        found = pattern.fullmatch(text)
        if found:
            values = {k: (_translated(v, values_too=False) if values_too else None) or user_data(v)
                      for k, v in found.groupdict().items()}
            return Markup(escape(gettext(msgid))) % values
    return None


def plain_message(text: str) -> str:
    """:func:`translated_message` as plain text, for a page's script to show (JSON, not HTML)."""
    translated = translated_message(text)
    return translated.striptags() if isinstance(translated, Markup) else str(translated)


@lru_cache(maxsize=8)
def _patterns(language: str) -> list[tuple[re.Pattern, str]]:
    """The catalogue's translated messages with placeholders, each as a pattern matching the text it
    formats to (the longest first: the most specific)."""
    catalog = get_translations()._catalog  # type: ignore[attr-defined]
    found = []
    for msgid, msgstr in catalog.items():
        if isinstance(msgid, str) and msgstr and "%(" in msgid and re.search(r"[\u3400-\u9fff]", msgid):
            parts = PLACEHOLDER.split(msgid)
            if len(set(parts[1::2])) != len(parts[1::2]):
                continue  # a name used twice: no pattern
            regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts))
            found.append((re.compile(regex, re.S), msgid))
    return sorted(found, key=lambda entry: -len(entry[1]))


@lru_cache(maxsize=8)
def form_words(forms_dir: Path, language: str) -> dict[str, str]:
    """Every form's words in ``language`` (the ``translations`` of the forms folder's JSON files,
    BANJIAN_FORMS_DIR), Chinese → language."""
    words: dict[str, str] = {}
    for path in sorted(forms_dir.rglob("*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        translations = document.get("translations") if isinstance(document, dict) else None
        for source, target in ((translations or {}).get(language) or {}).items():
            words.setdefault(source, target)
    return words


def choose_language(lang: str, target: str):
    from web.pages.session import safe_next

    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(safe_next(target or request.referrer and _local_part(request.referrer)))


def _local_part(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
