"""Builds the English message catalogue: ``python -m web.pages.catalogue`` (``make translations``).

Extracts the Chinese source strings of web/ (Python and templates), adds the labels that
templates translate at run time (roles, audit actions, queries, each process module's words: they
live in services/, so no extractor sees them; and the names of the shipped BPMN processes, their
lanes, steps and events), merges into
web/translations/en/LC_MESSAGES/messages.po keeping existing translations, and compiles
messages.mo. New strings get an empty translation, which tests/web reports.
"""
from __future__ import annotations

import re
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "web" / "translations" / "en" / "LC_MESSAGES"
METHODS = [("web/**.py", "python"), ("web/templates/**.html", "jinja2")]
# the errors services and the engine raise with a message in Chinese (their first argument), which pages
# show translated: _(refused.message); and the incidents' messages and problem words (engine.incident_words
# marks them with in_words), which pages translate by pattern: web.pages.i18n.translated_message
SERVICE_METHODS = [("services/**.py", "python"), ("engine/**.py", "python")]
ERRORS = {name: (1,) for name in ("InvalidData", "OperatorError", "NotFound", "Forbidden", "Conflict",
                                  "Unauthenticated", "EngineError", "FormError", "ValidationError", "in_words")}
ERRORS["Problem"] = (3,)  # a validation problem (file, element, message): the designer pages show them
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
# the BPMN elements whose names pages show (gateways and flows are only drawn, in the diagram)
SHOWN = {"process", "lane", "userTask", "serviceTask", "scriptTask", "manualTask", "task", "sendTask", "receiveTask",
         "businessRuleTask", "callActivity", "subProcess", "startEvent", "endEvent", "intermediateCatchEvent",
         "intermediateThrowEvent", "boundaryEvent"}
# pgettext("context", "…"): one Chinese word that English needs two words for (办件: the brand and a case)
KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None, "pgettext": ((1, "c"), 2)}


def domain_labels() -> list[str]:
    """The words of the platform and of every process module that pages translate at run time."""
    from engine import lifecycle
    from services.bootstrap import MODULES
    from services.platform import applicant_actions, audit, documents, ratings, studio
    from services.platform.identity import ROLES

    labels = [*ROLES.values(), *audit.ACTION_LABELS.values(), *query_labels(), *lifecycle.CASE_STATUSES.values(),
              *(kind.title for kind in documents.KINDS.values()), *ratings.GRADES.values(), applicant_actions.OPENED,
              *lifecycle.DECISION_LABELS.values(), *studio.words()]
    for module in MODULES:
        labels += [module.title, *module.labels, *(entry.label for entry in module.menu), *module.job_titles.values()]
    return list(dict.fromkeys([*labels, *bpmn_labels()]))


def bpmn_labels() -> list[str]:
    """The names of the shipped processes (processes/**.bpmn): of each process, lane, step and event,
    which pages show as process names, step names (环节) and the history's entries; and of the
    shipped decision tables (processes/**.dmn)."""
    from lxml import etree

    names = []
    for path in sorted((ROOT / "processes").rglob("*.bpmn")):
        for element in etree.parse(str(path)).iter(f"{{{BPMN}}}*"):
            name = (element.get("name") or "").strip()
            if etree.QName(element).localname in SHOWN and re.search(r"[\u3400-\u9fff]", name):
                names.append(name)
    for path in sorted((ROOT / "processes").rglob("*.dmn")):  # a decision table's name: the designer lists it
        root = etree.parse(str(path)).getroot()
        names += [name for name in [root.get("name") or ""] + [d.get("name") or "" for d in root.iter("{*}decision")]
                  if re.search(r"[\u3400-\u9fff]", name)]
    return names


def query_labels() -> list[str]:
    """查询统计 pages translate each query's title, column and filter labels and value labels."""
    from services.platform import queries

    labels = []
    for query in queries.QUERIES.values():
        labels.append(query.title)
        labels += [label for _kind, label in query.filters.values()]
        for column in query.columns:
            labels += [column.label, *(str(v) for v in (column.labels or {}).values())]
    return labels


def source_catalog() -> Catalog:
    template = Catalog(locale=None)
    for _filename, _lineno, message, _comments, _context in extract_from_dir(ROOT, SERVICE_METHODS,
                                                                              keywords=ERRORS):
        template.add(message)  # the messages of errors the pages show (flashed, or beside a form)
    for _filename, _lineno, message, _comments, context in extract_from_dir(ROOT, METHODS, keywords=KEYWORDS):
        if isinstance(message, tuple):  # pgettext: (context, message)
            context, message = message
        template.add(message, context=context)
    for label in domain_labels():
        template.add(label)
    return template


def build() -> Catalog:
    po_path = FOLDER / "messages.po"
    if po_path.exists():
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale="en")
    else:
        catalog = Catalog(locale="en", project="banjian")
    catalog.update(source_catalog(), no_fuzzy_matching=True)
    catalog.obsolete.clear()
    FOLDER.mkdir(parents=True, exist_ok=True)
    with po_path.open("wb") as handle:
        write_po(handle, catalog, no_location=True, sort_output=True, width=120)
    with (FOLDER / "messages.mo").open("wb") as handle:
        write_mo(handle, catalog)
    return catalog


if __name__ == "__main__":
    missing = [m.id for m in build() if m.id and not m.string]
    print(f"{len(missing)} untranslated message(s)" + (":\n" + "\n".join(missing) if missing else ""))
