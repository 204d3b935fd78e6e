"""Fixtures of the engine tests."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer


@pytest.fixture
def later(monkeypatch):
    """Move SpiffWorkflow's clock forward: ``later(timedelta(minutes=6))``."""

    def move(by: timedelta) -> None:
        class Moved(datetime):
            @classmethod
            def now(cls, tz=None):
                return datetime.now(tz) + by

        monkeypatch.setattr(spiff_timer, "datetime", Moved)

    return move
