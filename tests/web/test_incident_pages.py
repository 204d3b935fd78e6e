"""Incidents on the case page (issue 18, part 5): the failing step is marked on the diagram with its
message, a call activity whose called process failed is drawn as failing (never as done), the incident
names the step in words and says what to do, with SpiffWorkflow's own text as a detail; English pages
translate an incident's message through the catalogue's patterns, the problem it carries included."""
from __future__ import annotations

import re
from pathlib import Path

from flask import session

from engine.actors import Actor
from engine.incident_words import in_words

FIXTURE = Path(__file__).parent.parent / "fixtures" / "robustness" / "call_activity_failure.bpmn"
STARTER = Actor("reviewer", frozenset({("reviewer", "110000")}))


def test_the_case_page_marks_the_failing_step_and_the_call_activity_that_failed(runtime, browser):
    with runtime.unit_of_work() as uow:
        runtime.deployer.deploy(uow.session, [(FIXTURE.read_bytes(), FIXTURE.name)], "designer")
        case = runtime.engine.start(uow, "rb_call_parent", business_key="RB-PAGE", region_code="110000", data={},
                                    actor=STARTER)
        uow.commit()
    assert case.status == "error"
    page = browser("supervisor").get(f"/cases/{case.id}").get_data(as_text=True)
    message = "脚本任务“计算资格分”出错（第 1 行）：名称 undefined_bonus 未定义。请修正脚本后部署新版本"
    marks = dict(re.findall(r'<li data-step="([^"]+)">([^<]+)</li>', page))
    assert set(marks) == {"Call_check", "Child_compute"} and all(message in text for text in marks.values())
    done = re.search(r'data-done="([^"]*)"', page)
    assert done is not None and "Call_check" not in done.group(1) and "Child_ok" not in done.group(1)
    incidents = page[page.index('class="plain bad incidents"'):]
    assert message in incidents and "Child_compute" in incidents  # in words, with the step's id beside it
    assert "ScriptRejected" in incidents[incidents.index("incident-detail"):]  # SpiffWorkflow's text, as a detail


def test_an_incident_is_translated_by_its_pattern_and_so_is_the_problem_it_carries(app, monkeypatch):
    from web.pages import i18n

    pattern = ("脚本任务“%(step)s”出错（第 %(line)s 行）：%(problem)s。"
               "请修正脚本后部署新版本；本办件可在办件页修改业务数据后重试。")
    problem = "名称 %(name)s 未定义"
    catalogue = {pattern: "Script task “%(step)s” failed (line %(line)s): %(problem)s. Correct the script and deploy "
                          "a new version; this case can be retried on its page once its data is corrected.",
                 problem: "the name %(name)s is not defined"}

    def patterns(_language: str) -> list[tuple[re.Pattern[str], str]]:
        return [(re.compile("".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)"
                                    for i, part in enumerate(i18n.PLACEHOLDER.split(msgid))), re.S), msgid)
                for msgid in sorted(catalogue, key=len, reverse=True)]

    monkeypatch.setattr(i18n, "_patterns", patterns)
    monkeypatch.setattr(i18n, "gettext", lambda text: catalogue.get(text, text))
    stored = in_words(pattern % dict(step="计算", line=1, problem=in_words(problem % dict(name="foo"))))
    with app.test_request_context():
        session["lang"] = "en"
        shown = str(i18n.translated_message(stored))
    assert shown.startswith('Script task “<span data-user>计算</span>” failed (line <span data-user>1</span>): '
                            "the name <span data-user>foo</span> is not defined. Correct the script")
