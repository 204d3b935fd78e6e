"""The `banjian` command: serve, deploy, validate, demo, db-upgrade, create-user."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from engine.definitions import DefinitionInvalid, files_under
from services.bootstrap import Runtime, bootstrap


def _runtime(migrated: bool = True) -> Runtime:
    """The runtime; with ``migrated``, refuse to go on (in words, exit 1) on a database whose schema
    is missing or older than the code — instead of a traceback about a missing table."""
    runtime = bootstrap()
    if migrated:
        from services import schema

        if not schema.is_current(runtime.db):
            click.echo("数据库结构不存在或不是最新版本，请先运行 banjian db-upgrade "
                       "(the database schema is missing or out of date: run `banjian db-upgrade` first)", err=True)
            sys.exit(1)
    return runtime


@click.group()
def main() -> None:
    """Banjian (办件) — BPMN approval processes for government back offices."""


@main.command("db-upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema (Alembic)."""
    from services import schema

    runtime = _runtime(migrated=False)
    schema.upgrade(runtime.db)
    click.echo(f"database schema up to date ({runtime.db.url.render_as_string(hide_password=True)})")


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
def validate(paths: tuple[Path, ...]) -> None:
    """Validate BPMN files; print every problem and exit non-zero on any. With a migrated database, a
    called process may also be one already deployed; without one the files are checked on their own
    (a designer's machine, CI) — no database is needed to validate."""
    from services import schema

    runtime = _runtime(migrated=False)
    files = files_under(paths or [runtime.settings.processes_dir])
    if schema.is_current(runtime.db):
        with runtime.unit_of_work() as uow:
            problems = runtime.deployer.validate_files(files, uow.session)
    else:
        click.echo("（数据库未迁移：只按这些文件校验，不查已部署的流程）", err=True)
        problems = runtime.deployer.validate_files(files)
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        sys.exit(1)
    click.echo(f"{len(files)} file(s) valid")


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--user", default="cli", help="recorded as deployed_by")
def deploy(paths: tuple[Path, ...], user: str) -> None:
    """Deploy BPMN files (default: processes/) as new versions where they changed."""
    runtime = _runtime()
    files = files_under(paths or [runtime.settings.processes_dir])
    with runtime.unit_of_work() as uow:
        try:
            results = runtime.deployer.deploy(uow.session, files, user)
        except DefinitionInvalid as invalid:
            for problem in invalid.problems:
                click.echo(str(problem), err=True)
            sys.exit(1)
        uow.commit()
    for result in results:
        click.echo(str(result))  # "key vN deployed|unchanged", or "key vN (re-pinned: called vM, …)"


@main.command()
def demo() -> None:
    """Load demo users (password 'demo'), enterprises, catalogue and declarations."""
    runtime = _runtime()
    if runtime.settings.environment == "production":
        click.echo("refused: demo users with known passwords are not created when BANJIAN_ENV=production", err=True)
        sys.exit(1)
    from services.demo import load_demo

    with runtime.unit_of_work() as uow:
        loaded = load_demo(uow, runtime.engine, runtime.modules)
        uow.commit()
    click.echo("demo data loaded (users: enterprise, reviewer, rechecker, supervisor, designer, admin, clerk, "
               "approver, acceptor, hr_org, hr_org_chaoyang, hr_org_granted, hr_branch, petitioner, petitioner_li, "
               "jn_registrar, jn_handler, jn_leader, jn_interviewer, lx_receiver, lx_handler; password: demo)"
               if loaded else "demo data already present")


@main.command("create-user")
@click.argument("username")
@click.option("--region", required=True)
@click.option("--role", "roles", multiple=True, required=True)
@click.option("--enterprise", default=None)
@click.password_option()
def create_user_command(username: str, region: str, roles: tuple[str, ...], enterprise: str | None,
                        password: str) -> None:
    """Create a user holding ROLE(s) in REGION."""
    from engine.errors import EngineError
    from services.platform.identity import create_user

    runtime = _runtime()
    with runtime.unit_of_work() as uow:
        try:
            create_user(uow.session, username, password, region, list(roles), enterprise_code=enterprise)
        except EngineError as error:
            click.echo(error.message, err=True)
            sys.exit(1)
        uow.commit()
    click.echo(f"user {username} created")


@main.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--threads", default=8, type=int)
def serve(host: str, port: int, threads: int) -> None:
    """Serve the web application with waitress (and, without BANJIAN_BROKER_URL, background work in-process)."""
    from waitress import serve as waitress_serve

    from services.platform.telemetry import configure_logging
    from web import create_app

    configure_logging()
    runtime = _runtime()
    app = create_app(runtime)
    if not runtime.settings.broker_url:
        from services.platform.background import EmbeddedRunner

        EmbeddedRunner(runtime).start()
        click.echo("background work: embedded runner (no BANJIAN_BROKER_URL)")
    click.echo(f"Banjian serving on http://{host}:{port}")
    waitress_serve(app, host=host, port=port, threads=threads)
