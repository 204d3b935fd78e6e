"""A process's caseTitle and summaryFields: filled from case data as text, never evaluated."""
from __future__ import annotations

from engine import case_summary


def test_the_title_fills_named_fields_only_and_the_summary_uses_the_form_labels():
    summary = case_summary.parse("{venue}（{attendees} 人）{missing}", "purpose, rooms", {"purpose": "使用事由"})
    values = summary.values({"venue": "报告厅", "attendees": 12, "purpose": "培训", "rooms": ["A", "B"]}, "BJ1")
    assert values["title"] == "报告厅（12 人）"
    assert values["summary"] == "使用事由：培训；rooms：A、B"
    assert values["search_text"] == "BJ1 报告厅（12 人） 培训 A、B"


def test_a_placeholder_that_is_not_a_field_name_is_refused_and_never_evaluated():
    hostile = "{venue.__class__.__mro__} {0} {venue!r:>99999}"
    assert len(case_summary.problems(hostile, "ok, not-a-name")) == 4
    assert case_summary.parse(hostile, "", {}).values({"venue": "x"}, "K")["title"] == hostile


def test_a_process_that_declares_nothing_writes_nothing():
    assert not case_summary.parse(None, "", {}).declared
