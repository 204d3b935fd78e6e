"""The process-module contract: what one business system brings to the platform.

Each business system (the special-work-type review, licences, petitions, …) is a package
``services/<system>/`` with the same file names — ``module.py`` (one :class:`ProcessModule`),
``models.py``, ``operators.py``, ``context.py``, ``queries.py``, ``labels.py``, ``demo.py`` and its
use cases — plus its BPMN under ``processes/<system>/``, its forms under ``forms/<system>/`` and,
only where the generic screens do not serve, ``web/<system>/``. The composition root
(``services.bootstrap.MODULES``) lists the modules; that list is the only shared line a new system
adds. The platform never imports a system, and a system never imports another: what a system
brings reaches the platform through this object.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from engine.actors import Actor
from engine.db import UnitOfWork
from engine.models import HumanTask, ProcessInstance
from engine.operators import OperatorRegistry
from engine.runtime import WorkflowEngine

if TYPE_CHECKING:  # the settings and the job service are the composition root's
    from services.platform.jobs import Job, JobService


@dataclass(frozen=True)
class ModuleSetup:
    """What a module's ``setup`` may wire itself into at start-up."""

    operators: OperatorRegistry
    jobs: JobService
    engine: WorkflowEngine
    settings: Any  # services.bootstrap.Settings
    notifier: Any = None  # services.platform.notifications.Notifier


@dataclass(frozen=True)
class Panel:
    """One context panel of a case, as a page renders it: the template (under ``web/templates``)
    gets ``panel`` (this object) and reads ``panel.data``; ``options`` feed form fields whose
    options depend on the case (form-js ``valuesKey``); on a task page ``values`` are what the
    step's form shows before the user types and ``locked`` the fields it shows read-only — a value
    the module's rules decide (the module's task check refuses a different one all the same)."""

    template: str
    data: Any
    options: Mapping[str, list[dict[str, str]]] = field(default_factory=dict)
    values: Mapping[str, Any] = field(default_factory=dict)
    locked: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PanelContext:
    """What a context panel is loaded for: one case, seen by one actor, on the case page or (with
    ``task``) on a task page."""

    session: Session
    engine: WorkflowEngine
    actor: Actor
    instance: ProcessInstance
    data: dict[str, Any]  # the case's variables (on a task page: the task's)
    search: str  # what the reviewer typed into the panel's search box (``?q=``), if it has one
    task: HumanTask | None = None
    staff: bool = True  # False: the applicant's own view of the case


@dataclass(frozen=True)
class ContextPanel:
    """A panel a module adds to the generic task and case pages of its own cases: ``load`` returns
    the panel for one case (None when it has nothing to show), checking the actor's scope itself."""

    name: str
    load: Callable[[PanelContext], Panel | None]


@dataclass(frozen=True)
class MenuEntry:
    """A navigation entry of a module's own screens: the label (Chinese source text, translated by
    the pages), the page's endpoint, who sees it (``shown_to``: the same check its service makes,
    so the menu never offers a page that refuses), whether it is an applicant's entry (applicants
    see only those) and the endpoints under which it is the current entry."""

    label: str
    endpoint: str
    shown_to: Callable[[Actor], bool]
    applicants: bool = False
    active: tuple[str, ...] = ()  # endpoints (a trailing * : a prefix) for aria-current; default: endpoint

    def is_current(self, endpoint: str | None) -> bool:
        return endpoint is not None and any(
            endpoint.startswith(a[:-1]) if a.endswith("*") else endpoint == a for a in self.active or (self.endpoint,))


@dataclass(frozen=True)
class ProcessModule:
    name: str  # the package name under services/ (and processes/, forms/, web/)
    title: str  # the system's name, in Chinese (the pages translate it)
    process_keys: frozenset[str]  # the processes it owns: its panels, hooks and labels apply to these
    roles: Mapping[str, str] = field(default_factory=dict)  # role key → Chinese name (lanes, grants)
    applicant_roles: frozenset[str] = frozenset()  # of ``roles``, those of applicants (enterprises, petitioners)
    setup: Callable[[ModuleSetup], None] | None = None  # registers operators and job kinds
    panels: tuple[ContextPanel, ...] = ()
    queries: Mapping[str, Any] = field(default_factory=dict)  # name → services.platform.queries.Query
    audit_actions: Mapping[str, str] = field(default_factory=dict)  # audit action → Chinese words
    labels: tuple[str, ...] = ()  # Chinese words of its data the pages translate (statuses, kinds…)
    menu: tuple[MenuEntry, ...] = ()
    job_titles: Mapping[str, str] = field(default_factory=dict)  # job kind → what a case page calls it
    # a job an applicant may follow because it belongs to the applicant's party (an enterprise's import)
    party_job: Callable[[Job, Actor], bool] | None = None
    # a case of one of its processes was terminated (终止) or withdrawn: bring its domain rows along
    on_terminate: Callable[[Session, ProcessInstance, str], None] | None = None
    # the region of an applicant party (an enterprise code …), None when the code is not its party
    party_region: Callable[[Session, str], str | None] | None = None
    demo: Callable[[UnitOfWork, WorkflowEngine], None] | None = None
    # the business keys of its cases that a search text names exactly (an ID number → the batches
    # declaring that person), for the inbox search beyond what a case's search text holds
    search: Callable[[Session, str], list[str] | None] | None = None
    # its own layouts of document kinds for its processes: <dir>/<process key>/<kind>.html (services.platform.documents)
    document_templates: Path | None = None
    # the words of the decisions its forms record (their ``decision`` values: 签收, 受理 …) for the history
    decision_labels: Mapping[str, str] = field(default_factory=dict)

    def owns(self, instance: ProcessInstance) -> bool:
        return instance.process_key in self.process_keys


def business_keys_for(modules: list[ProcessModule], session: Session, text: str) -> list[str] | None:
    """The business keys a search text names through the modules' own searches, or None when no
    module takes the text (the inbox then matches it as it stands)."""
    found = [module.search(session, text) for module in modules if module.search is not None]
    named = [keys for keys in found if keys is not None]
    return None if not named else [key for keys in named for key in keys]


def menu_for(modules: list[ProcessModule], actor: Actor) -> list[MenuEntry]:
    """The modules' menu entries ``actor`` sees: an applicant (a user of a party) the applicant
    entries, anyone else the others their checks allow."""
    from services.platform.identity import is_applicant

    applicant = is_applicant(actor)
    return [entry for module in modules for entry in module.menu
            if entry.applicants == applicant and entry.shown_to(actor)]


def job_title(modules: list[ProcessModule], kind: str) -> str | None:
    return next((module.job_titles[kind] for module in modules if kind in module.job_titles), None)


def visible_job(modules: list[ProcessModule], session: Session, jobs: JobService, actor: Actor, job_id: int,
                applicant_roles: frozenset[str]) -> Job:
    """A job the actor may follow: one of the actor's party (as its module says), or what
    :meth:`JobService.get_visible` allows (its creator, staff of its region)."""
    from services.platform.jobs import Job

    job = session.get(Job, job_id)
    if job is not None and actor.party and any(m.party_job is not None and m.party_job(job, actor) for m in modules):
        return job
    return jobs.get_visible(session, job_id, actor, applicant_roles)


def panels_for(modules: list[ProcessModule], context: PanelContext) -> list[Panel]:
    """The panels the modules owning the case show for it."""
    return [panel for module in modules if module.owns(context.instance) for source in module.panels
            if (panel := source.load(context)) is not None]


def install(modules: list[ProcessModule]) -> None:
    """Make what the modules declare known to the platform: their roles, queries, audit actions and
    applicant parties. Run once by the composition root at import (the API's per-query routes are
    built from the queries when ``web`` is imported); running it again changes nothing."""
    from engine import lifecycle
    from services.platform import audit, documents, identity, queries

    for module in modules:
        identity.ROLES.update(module.roles)
        identity.APPLICANT_ROLES.update(module.applicant_roles)
        audit.ACTION_LABELS.update(module.audit_actions)
        lifecycle.DECISION_LABELS.update(module.decision_labels)
        queries.register(dict(module.queries))
        if module.party_region is not None:
            identity.PARTY_REGIONS[module.name] = module.party_region
        if module.document_templates is not None and module.document_templates not in documents.TEMPLATE_DIRS:
            documents.TEMPLATE_DIRS.append(module.document_templates)
