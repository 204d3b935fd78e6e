"""What a case's variables may hold survives being stored: dates too (a form's date field, an
expression's ``date(…)``), not only SpiffWorkflow's own datetime and timedelta."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from tests.bpmn_factory import linear_process
from tests.conftest import actor


def test_dates_datetimes_and_durations_are_stored_and_read_back(runtime):
    values = {"day": date(2026, 10, 8), "moment": datetime(2026, 10, 8, 9, 30), "span": timedelta(days=3),
              "nested": {"days": [date(2026, 1, 1)]}}
    with runtime.unit_of_work() as uow:
        runtime.deployer.deploy(uow.session, [(linear_process("dated"), "dated.bpmn")], "test")
        instance = runtime.engine.start(uow, "dated", business_key="D-1", region_code="110000", data=values,
                                        actor=actor("reviewer"))
        uow.commit()
    runtime.engine.workflows._items.clear()  # read from the database, not the process's cache
    with runtime.unit_of_work() as uow:
        assert runtime.engine.instance_data(uow.session, instance) == values


def test_parsed_specs_are_kept_for_the_most_recently_used_versions_only(runtime, monkeypatch):
    """A designer deploying version after version (2 MB each) and starting a case of each must not
    fill the server's memory with parsed specs."""
    from engine import specs
    from engine.actors import Actor
    from tests.bpmn_factory import linear_process

    monkeypatch.setattr(specs, "MAX_SPECS", 3)
    starter = Actor("reviewer", frozenset({("reviewer", "110000")}))
    for version in range(5):
        with runtime.unit_of_work() as uow:
            runtime.deployer.deploy(uow.session, [(linear_process("spec_cache", label=f"审核 {version}"),
                                                   "spec_cache.bpmn")], "test")
            runtime.engine.start(uow, "spec_cache", business_key=f"SC-{version}", region_code="110000", data={},
                                 actor=starter)
            uow.commit()
    assert len(runtime.engine.specs._specs) <= 3
