"""Helpers shared by the benchmarks: fresh databases and a seeded runtime."""
from __future__ import annotations

import os
import tempfile

from sqlalchemy import create_engine, text

from services import schema
from services.bootstrap import Runtime, Settings, bootstrap

PG_ADMIN_URL = os.environ.get("BANJIAN_BENCH_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def postgres_available() -> bool:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 2})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not available" for a benchmark
        return False


def fresh_postgres(name: str) -> str:
    """(Re)create database ``name`` on the local server and return its URL."""
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def fresh_sqlite(name: str) -> str:
    return f"sqlite:///{tempfile.mkdtemp(prefix='banjian-bench-')}/{name}.db"


def seeded_runtime(url: str) -> Runtime:
    """A runtime on ``url`` with the schema, the processes and the demo data."""
    from engine.definitions import files_under
    from services.demo import load_demo

    runtime = bootstrap(Settings(database_url=url))
    schema.upgrade(runtime.db)
    with runtime.unit_of_work() as uow:
        runtime.deployer.deploy(uow.session, files_under([runtime.settings.processes_dir]), "bench")
        load_demo(uow, runtime.engine, runtime.modules)
        uow.commit()
    return runtime
