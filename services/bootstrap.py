"""The composition root: builds the runtime the same way for the web app, the workers, the CLI
and the test fixtures."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from limits import parse_many
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from engine import dialects, numbering
from engine.db import UnitOfWork, make_engine
from engine.definitions import DefinitionValidator, Deployer
from engine.forms import FormRegistry
from engine.operators import OperatorRegistry
from engine.runtime import WorkflowEngine
from services.hr_market.module import MODULE as HR_MARKET
from services.petitions.module import MODULE as PETITIONS
from services.platform import (  # noqa: F401 (some imported for their models only)
    audit,
    calendar,
    carbon_copies,
    case_repair,
    case_updates,
    documents,
    identity,
    modules,
    notifications,
    ratings,
    reminders,
    sessions,
    standing_delegations,
    studio,
    telemetry,
    urges,
)
from services.platform.jobs import JobService, dispatcher_for
from services.platform.xlsx_stream import Limits
from services.special_work.module import MODULE as SPECIAL_WORK

# The business systems this deployment runs: the one line a new system adds (README: "Adding a
# business system"). Importing a module's package brings its tables into the metadata.
MODULES = [SPECIAL_WORK, HR_MARKET, PETITIONS]
modules.install(MODULES)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{ROOT / 'instance' / 'banjian.db'}"


@dataclass
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    # PostgreSQL connections each process keeps (and may open beyond them at a peak): at least the
    # requests or threads it serves at once, or a burst waits for a connection (SQLite ignores them)
    db_pool_size: int = 5
    db_max_overflow: int = 10
    processes_dir: Path = ROOT / "processes"
    forms_dir: Path = ROOT / "forms"
    secret_key: str = "dev-only-secret-change-me"
    environment: str = "development"
    script_time_limit: float = 2.0
    script_memory_mb: int = 256
    # background work (README: "Background work"): Celery on this broker, or the embedded runner
    broker_url: str | None = None
    job_lease_seconds: int = 60
    job_time_limit: float = 1800.0  # seconds per attempt, for kinds without a limit of their own
    job_time_limits: dict[str, float] = field(default_factory=dict)  # per kind, over the kind's own
    job_max_running: dict[str, int] = field(default_factory=dict)  # per kind, over the kind's own cap
    workbook_limits: Limits = field(default_factory=Limits)  # caps on reading an uploaded workbook
    inline_validation_limit: int = 500
    inline_registration_limit: int = 5_000
    timer_scan_seconds: float = 5.0
    reminder_scan_seconds: float = 300.0
    purge_scan_seconds: float = 3600.0  # how often uploads staged a day ago and never used are removed
    remind_before_working_days: int = 2
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_sender: str = "banjian@localhost"
    smtp_starttls: bool = False
    sms_gateway: str = ""
    # sign-in (README: "Security model"): session lifetimes, and rate limits in the syntax of the
    # `limits` package ("10/minute;100/hour") kept in memory, or in Redis when a storage URL is set
    session_lifetime_minutes: int = 8 * 60
    session_idle_minutes: int = 2 * 60
    token_lifetime_minutes: int = 12 * 60
    signin_limit_per_ip: str = "30/minute;300/hour"
    signin_limit_per_account: str = "10/minute;60/hour"
    query_code_limit_per_ip: str = "10/minute;100/hour"  # 办件查询 by 查询码, per client address
    ratelimit_storage_url: str = ""
    trusted_proxies: int = 0
    # cookies only over HTTPS: on in production (TLS ends at the proxy in front), off for plain HTTP
    # on one's own machine; bench/http_load.py turns it off to speak HTTP to gunicorn on loopback
    secure_cookies: bool | None = None
    # printed documents (services.platform.documents): the office after the region's name, the address
    # the verification QR code points to, and a folder of seal images named <region code>.png
    issuing_office: str = documents.DEFAULT_OFFICE
    public_url: str = ""
    seals_dir: Path | None = None

    def __post_init__(self) -> None:
        parse_many(self.signin_limit_per_ip)  # a malformed limit fails at start-up, not at the first sign-in
        parse_many(self.signin_limit_per_account)
        parse_many(self.query_code_limit_per_ip)
        if self.secure_cookies is None:
            self.secure_cookies = self.environment == "production"

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        env = os.environ
        broker = env.get("BANJIAN_BROKER_URL", "")
        values: dict[str, Any] = {  # Settings' keyword arguments, of its fields' several types
            "database_url": env.get("BANJIAN_DATABASE_URL", DEFAULT_DATABASE_URL),
            "db_pool_size": int(env.get("BANJIAN_DB_POOL_SIZE", 5)),
            "db_max_overflow": int(env.get("BANJIAN_DB_MAX_OVERFLOW", 10)),
            "processes_dir": Path(env.get("BANJIAN_PROCESSES_DIR", ROOT / "processes")),
            "forms_dir": Path(env.get("BANJIAN_FORMS_DIR", ROOT / "forms")),
            "secret_key": env.get("BANJIAN_SECRET_KEY", "dev-only-secret-change-me"),
            "environment": env.get("BANJIAN_ENV", "development"),
            "script_time_limit": float(env.get("BANJIAN_SCRIPT_TIME_LIMIT", 2.0)),
            "script_memory_mb": int(env.get("BANJIAN_SCRIPT_MEMORY_MB", 256)),
            "broker_url": broker or None,
            "job_lease_seconds": int(env.get("BANJIAN_JOB_LEASE_SECONDS", 60)),
            "job_time_limit": float(env.get("BANJIAN_JOB_TIME_LIMIT", 1800)),
            "job_time_limits": _per_kind(env.get("BANJIAN_JOB_TIME_LIMITS", ""), float),
            "job_max_running": _per_kind(env.get("BANJIAN_JOB_MAX_RUNNING", ""), int),
            "workbook_limits": _workbook_limits(env),
            "inline_validation_limit": int(env.get("BANJIAN_INLINE_VALIDATION_LIMIT", 500)),
            "inline_registration_limit": int(env.get("BANJIAN_INLINE_REGISTRATION_LIMIT", 5_000)),
            "timer_scan_seconds": float(env.get("BANJIAN_TIMER_SCAN_SECONDS", 5)),
            "reminder_scan_seconds": float(env.get("BANJIAN_REMINDER_SCAN_SECONDS", 300)),
            "remind_before_working_days": int(env.get("BANJIAN_REMIND_BEFORE_WORKING_DAYS", 2)),
            "smtp_host": env.get("BANJIAN_SMTP_HOST", ""),
            "smtp_port": int(env.get("BANJIAN_SMTP_PORT", 25)),
            "smtp_username": env.get("BANJIAN_SMTP_USERNAME", ""),
            "smtp_password": env.get("BANJIAN_SMTP_PASSWORD", ""),
            "smtp_sender": env.get("BANJIAN_SMTP_SENDER", "banjian@localhost"),
            "smtp_starttls": env.get("BANJIAN_SMTP_STARTTLS", "") in ("1", "true", "yes"),
            "sms_gateway": env.get("BANJIAN_SMS_GATEWAY", ""),
            "session_lifetime_minutes": int(env.get("BANJIAN_SESSION_LIFETIME_MINUTES", 8 * 60)),
            "session_idle_minutes": int(env.get("BANJIAN_SESSION_IDLE_MINUTES", 2 * 60)),
            "token_lifetime_minutes": int(env.get("BANJIAN_TOKEN_LIFETIME_MINUTES", 12 * 60)),
            "signin_limit_per_ip": env.get("BANJIAN_SIGNIN_LIMIT_PER_IP", cls.signin_limit_per_ip),
            "signin_limit_per_account": env.get("BANJIAN_SIGNIN_LIMIT_PER_ACCOUNT", cls.signin_limit_per_account),
            "query_code_limit_per_ip": env.get("BANJIAN_QUERY_CODE_LIMIT_PER_IP", cls.query_code_limit_per_ip),
            # processes behind one address must count together: a Redis broker serves when no storage is named
            "ratelimit_storage_url": env.get("BANJIAN_RATELIMIT_STORAGE_URL")
            or (broker if broker.startswith(("redis://", "rediss://")) else ""),
            "trusted_proxies": int(env.get("BANJIAN_TRUSTED_PROXIES", 0)),
            "secure_cookies": env["BANJIAN_SECURE_COOKIES"] in ("1", "true", "yes")
            if env.get("BANJIAN_SECURE_COOKIES") else None,
            "issuing_office": env.get("BANJIAN_ISSUING_OFFICE", cls.issuing_office),
            "public_url": env.get("BANJIAN_PUBLIC_URL", ""),
            "seals_dir": Path(env["BANJIAN_SEALS_DIR"]) if env.get("BANJIAN_SEALS_DIR") else None,
        }
        values.update(overrides)
        settings = cls(**values)
        if settings.environment == "production" and settings.secret_key == "dev-only-secret-change-me":
            raise RuntimeError("BANJIAN_SECRET_KEY must be set when BANJIAN_ENV=production")
        return settings


def _per_kind(text: str, convert: type) -> dict:
    """'declaration.import=300, declaration.validate=900' → {'declaration.import': 300.0, …}."""
    values = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        kind, _, value = item.partition("=")
        values[kind.strip()] = convert(value)
    return values


WORKBOOK_LIMITS = {"inflated_mb": "BANJIAN_XLSX_MAX_INFLATED_MB", "rows": "BANJIAN_XLSX_MAX_ROWS",
                   "cells": "BANJIAN_XLSX_MAX_CELLS", "shared_strings": "BANJIAN_XLSX_MAX_SHARED_STRINGS",
                   "shared_chars": "BANJIAN_XLSX_MAX_SHARED_CHARS"}


def _workbook_limits(env: Mapping[str, str]) -> Limits:
    return Limits(**{name: int(env[variable]) for name, variable in WORKBOOK_LIMITS.items() if env.get(variable)})


@dataclass
class Runtime:
    settings: Settings
    db: Engine
    session_factory: sessionmaker[Session]
    engine: WorkflowEngine
    deployer: Deployer
    sessions: sessions.SessionStore
    jobs: JobService
    notifier: notifications.Notifier
    documents: documents.DocumentService
    modules: list[modules.ProcessModule]

    def unit_of_work(self, read_only: bool = False) -> UnitOfWork:
        return UnitOfWork(self.session_factory, read_only)


def bootstrap(settings: Settings | None = None) -> Runtime:
    settings = settings or Settings.from_env()
    if settings.database_url.startswith("sqlite:///"):
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    db = make_engine(settings.database_url) if settings.database_url.startswith("sqlite") else \
        make_engine(settings.database_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow)
    forms = FormRegistry(settings.forms_dir)
    operators = OperatorRegistry()
    engine = WorkflowEngine(forms, operators, due_calculator=calendar.due_at,
                            working_days=calendar.working_days_between,
                            applicant_roles=frozenset(identity.APPLICANT_ROLES),
                            script_time_limit=settings.script_time_limit, script_functions=calendar.SCRIPT_FUNCTIONS,
                            script_memory_mb=settings.script_memory_mb)
    session_factory = sessionmaker(db, expire_on_commit=False)
    jobs = JobService(session_factory, dispatcher_for(settings.broker_url), lease_seconds=settings.job_lease_seconds,
                      time_limit=settings.job_time_limit, time_limits=settings.job_time_limits,
                      max_running=settings.job_max_running)
    notifier = notifications.notifier_from_settings(jobs, settings)
    engine.listeners += [case_updates.notify_starter(notifier), case_updates.termination_hooks(MODULES),
                         carbon_copies.step_copies(notifier, engine), telemetry.count_completions()]
    numbering.register_operator(operators)
    standing_delegations.install(engine)
    printer = documents.DocumentService(engine, issuing_office=settings.issuing_office,
                                        public_url=settings.public_url, seals_dir=settings.seals_dir)
    documents.register_operator(operators, printer)
    documents.register_batch(jobs, printer)
    case_repair.register_batch(jobs, engine)
    wiring = modules.ModuleSetup(operators, jobs, engine, settings, notifier)
    for module in MODULES:
        if module.setup is not None:
            module.setup(wiring)
    validator = DefinitionValidator(forms, operators, identity.ROLES, documents.PROCESS_PROPERTY_CHECKS)
    validator.dialect_mapping = settings.processes_dir / dialects.MAPPING_FILE  # Camunda/Flowable import
    deployer = Deployer(validator)
    return Runtime(settings=settings, db=db, session_factory=session_factory,
                   engine=engine, deployer=deployer, sessions=session_store(settings),
                   jobs=jobs, notifier=notifier, documents=printer, modules=MODULES)


def session_store(settings: Settings) -> sessions.SessionStore:
    return sessions.SessionStore({
        sessions.PAGE: sessions.Lifetime(timedelta(minutes=settings.session_lifetime_minutes),
                                         timedelta(minutes=settings.session_idle_minutes)),
        sessions.API: sessions.Lifetime(timedelta(minutes=settings.token_lifetime_minutes)),
    })
