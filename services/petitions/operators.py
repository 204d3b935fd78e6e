"""What the petition system's BPMN service tasks call and the rules its steps are checked by."""
from __future__ import annotations

from services.petitions import handling
from services.platform.modules import ModuleSetup


def setup(wiring: ModuleSetup) -> None:
    handling.Handling(wiring.engine, wiring.notifier).register(wiring.operators)
    wiring.engine.task_checks.append(handling.task_rules(wiring.engine))
