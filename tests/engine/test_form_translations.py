"""A form's texts in another language come from the form itself (``translations``): the schema a
page in English renders, and a guard that a form which translates translates every text."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.forms import TRANSLATED, FormRegistry, parse_form

ROOT = Path(__file__).resolve().parents[2]
FORMS = sorted((ROOT / "forms").rglob("*.json"))


def test_a_localized_schema_has_the_translated_texts_and_the_same_fields():
    form = parse_form("demo", json.dumps({
        "type": "default", "title": "受理", "components": [
            {"type": "radio", "key": "decision", "label": "受理意见", "description": "请选择",
             "values": [{"label": "受理", "value": "approve"}, {"label": "不通过", "value": "reject"}]},
            {"type": "text", "text": "说明文字"}],
        "translations": {"en": {"受理": "Acceptance", "受理意见": "Decision", "不通过": "Refuse"}}}))
    english = form.localized("en")
    assert english["title"] == "Acceptance"
    radio = english["components"][0]
    assert (radio["label"], radio["description"]) == ("Decision", "请选择")  # untranslated text stays
    assert [v["label"] for v in radio["values"]] == ["Acceptance", "Refuse"]
    assert [v["value"] for v in radio["values"]] == ["approve", "reject"]  # values never change
    assert form.localized("fr") is form.schema_json and form.schema_json["title"] == "受理"
    assert form.validate({"decision": "approve"}) == {"decision": "approve"}


def _texts(node, found: set[str]) -> set[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in TRANSLATED and isinstance(value, str):
                found.add(value)
            elif key != "translations":
                _texts(value, found)
    elif isinstance(node, list):
        for item in node:
            _texts(item, found)
    return found


@pytest.mark.parametrize("path", [p for p in FORMS if "translations" in json.loads(p.read_text("utf-8"))],
                         ids=lambda p: p.stem)
def test_a_form_that_translates_translates_every_text(path):
    document = json.loads(path.read_text("utf-8"))
    for language, words in document["translations"].items():
        missing = sorted(_texts(document, set()) - set(words))
        assert not missing, f"{path.stem} ({language}) lacks: {missing}"
        assert FormRegistry(ROOT / "forms").get(path.stem).localized(language)


def test_the_petition_forms_are_translated_to_english():
    petitions = [p for p in FORMS if "petitions" in p.parts]
    translated = [p for p in petitions if "translations" in json.loads(p.read_text("utf-8"))]
    assert len(translated) == len(petitions) > 0
