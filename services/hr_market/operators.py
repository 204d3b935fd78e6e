"""What the human-resources market system's BPMN service tasks call, its job kinds and its start checks."""
from __future__ import annotations

from services.hr_market import (
    annual_reports,
    applications,
    branches,
    changes,
    deregistrations,
    filings,
    history_import,
    licences,
)
from services.platform.modules import ModuleSetup


def setup(wiring: ModuleSetup) -> None:
    licences.register_operators(wiring.operators)
    filings.register_operators(wiring.operators)
    annual_reports.register_operators(wiring.operators)
    changes.register_operators(wiring.operators)
    branches.register_operators(wiring.operators)
    deregistrations.register_operators(wiring.operators)
    wiring.engine.start_checks.append(applications.check_start)
    history_import.register(wiring.jobs, wiring.settings.workbook_limits)
