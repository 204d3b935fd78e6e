"""Every HTML page, rendered in English for every kind of user, shows no Chinese outside user data.

The routes are read from the application itself (as tests/web/test_every_route.py does), filled
with the ids of real demo objects, and fetched after GET /lang/en. Text nodes and the attributes a
user sees or hears (title, placeholder, aria-label, alt, the value of a button) must not hold a CJK
character — Han ideographs, CJK punctuation or full-width forms. What users typed or what comes
from outside the code (names, business keys, conclusions, petition contents, file names, catalogue
rows administrators maintain…) is marked ``data-user`` in the templates and is not checked; nor is
text marked as Chinese with a ``lang="zh…"`` attribute (the 中文 link of the language switch). A
``<title>`` holds text only: the user data marked elsewhere on its page is left out of it.
"""
from __future__ import annotations

import re
from collections import defaultdict

import lxml.html
import pytest

from tests.web.conftest import Browser
from tests.web.crawl_helpers import demo_application, existing_values, urls

CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")
VISIBLE_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
# signing out, or ending one's other sessions, would end the crawl's own session halfway; /lang switches back
SKIPPED = {"static", "pages.signout", "pages.end_other_sessions", "pages.language"}
# pages whose template does not mark all user data yet, and what it leaves unmarked (people's display names)
USERS = ["enterprise", "petitioner", "clerk", "reviewer", "supervisor", "designer", "jn_registrar", "acceptor",
         "admin"]


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    with demo_application(tmp_path_factory.mktemp("english")) as built:
        yield built


def chinese_strings(html: str) -> list[str]:
    """The texts and visible attributes of a page that hold CJK characters, user data left out."""
    root = lxml.html.document_fromstring(html)
    for element in list(root.iter("script", "style")):
        element.drop_tree()
    user_data = sorted({e.text_content().strip() for e in root.xpath("//*[@data-user]")} - {""}, key=len, reverse=True)
    for element in root.xpath("//*[@data-user] | //*[starts-with(@lang, 'zh')]"):
        element.drop_tree()
    for title in root.iter("title"):  # text only: it repeats the page's heading, whose user data is marked there
        for shown in user_data:
            title.text = (title.text or "").replace(shown, "")
    found = []
    for element in root.iter():
        if not isinstance(element.tag, str):  # comments, processing instructions
            if element.tail:
                found.append(element.tail)
            continue
        found += [element.text or "", element.tail or ""]
        found += [element.get(name, "") for name in VISIBLE_ATTRIBUTES]
        if element.tag == "button" or (element.tag == "input" and element.get("type") in ("submit", "button",
                                                                                              "reset")):
            found.append(element.get("value", ""))
    return [" ".join(text.split()) for text in found if CJK.search(text)]


def english_pages(app, pages: Browser, values: dict[str, list[str]]):
    """(url, offending strings) of every HTML page a GET reaches, in English."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED or "GET" not in rule.methods or rule.rule.startswith("/api/"):
            continue
        for url in urls(rule, values):
            response = pages.client.get(url)
            if response.status_code != 200 or not response.content_type.startswith("text/html"):
                continue
            yield url, chinese_strings(response.get_data(as_text=True))
    for url in [f"/cockpit/dashboard?definition_id={d}" for d in values["definition_id"]]:  # with the heatmap
        response = pages.client.get(url)
        if response.status_code == 200:
            yield url, chinese_strings(response.get_data(as_text=True))


@pytest.mark.parametrize("user", USERS)
def test_every_page_in_english_shows_no_chinese_outside_user_data(demo_app, user):
    app, runtime = demo_app
    pages = Browser(app.test_client()).sign_in(user, "demo")
    assert pages.client.get("/lang/en").status_code == 302
    offenders: dict[str, list[str]] = defaultdict(list)
    crawled = 0
    for url, strings in english_pages(app, pages, existing_values(runtime)):
        crawled += 1
        for string in strings:
            if string not in offenders[url]:
                offenders[url].append(string)
    assert crawled > 10  # the crawl did reach the pages
    report = "\n".join(f"{url} →\n    " + "\n    ".join(strings) for url, strings in offenders.items() if strings)
    assert not report, f"Chinese on English pages of {user}:\n{report}"
