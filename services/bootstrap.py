"""The composition root: builds the runtime the same way for the web app, the workers, the CLI
and the test fixtures."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from engine.db import UnitOfWork, make_engine
from engine.definitions import DefinitionValidator, Deployer
from engine.forms import FormRegistry
from engine.operators import OperatorRegistry
from engine.runtime import WorkflowEngine
from services import calendar, declarations, identity

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{ROOT / 'instance' / 'banjian.db'}"


@dataclass
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    processes_dir: Path = ROOT / "processes"
    forms_dir: Path = ROOT / "forms"
    secret_key: str = "dev-only-secret-change-me"
    environment: str = "development"
    script_time_limit: float = 2.0

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        env = os.environ
        values = {
            "database_url": env.get("BANJIAN_DATABASE_URL", DEFAULT_DATABASE_URL),
            "processes_dir": Path(env.get("BANJIAN_PROCESSES_DIR", ROOT / "processes")),
            "forms_dir": Path(env.get("BANJIAN_FORMS_DIR", ROOT / "forms")),
            "secret_key": env.get("BANJIAN_SECRET_KEY", "dev-only-secret-change-me"),
            "environment": env.get("BANJIAN_ENV", "development"),
        }
        values.update(overrides)
        settings = cls(**values)
        if settings.environment == "production" and settings.secret_key == "dev-only-secret-change-me":
            raise RuntimeError("BANJIAN_SECRET_KEY must be set when BANJIAN_ENV=production")
        return settings


def build_operators() -> OperatorRegistry:
    registry = OperatorRegistry()
    declarations.register_operators(registry)
    return registry


@dataclass
class Runtime:
    settings: Settings
    db: Engine
    session_factory: sessionmaker[Session]
    engine: WorkflowEngine
    deployer: Deployer
    tokens: identity.TokenService

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory)


def bootstrap(settings: Settings | None = None) -> Runtime:
    settings = settings or Settings.from_env()
    if settings.database_url.startswith("sqlite:///"):
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    db = make_engine(settings.database_url)
    forms = FormRegistry(settings.forms_dir)
    operators = build_operators()
    engine = WorkflowEngine(forms, operators, due_calculator=calendar.due_at,
                            applicant_roles=identity.APPLICANT_ROLES,
                            script_time_limit=settings.script_time_limit)
    deployer = Deployer(DefinitionValidator(forms, operators, identity.ROLES))
    return Runtime(settings=settings, db=db, session_factory=sessionmaker(db, expire_on_commit=False),
                   engine=engine, deployer=deployer, tokens=identity.TokenService(settings.secret_key))
