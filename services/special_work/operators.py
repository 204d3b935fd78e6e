"""What the special-work-type system's BPMN service tasks call, and its background job kinds."""
from __future__ import annotations

from services.platform.modules import ModuleSetup
from services.special_work import (
    batch_registration,
    batch_validation,
    declaration_import,
    declarations,
    early_retirement,
)


def setup(wiring: ModuleSetup) -> None:
    settings = wiring.settings
    declarations.register_operators(wiring.operators)
    early_retirement.register_operators(wiring.operators)
    batch_validation.register(wiring.operators, wiring.jobs, wiring.engine, settings.inline_validation_limit)
    batch_registration.register(wiring.operators, wiring.jobs, wiring.engine, settings.inline_registration_limit)
    declaration_import.register(wiring.jobs, wiring.engine, settings.workbook_limits)
