"""Background jobs (后台任务): the durable record of long work, and the runner that executes it.

The ``job`` table is the source of truth — status, progress (done / total), result, error, a cancel
flag and a lease. Whatever executes jobs (a Celery worker, or the embedded runner thread when no
broker is configured) only receives job ids and calls :meth:`JobService.execute`, so progress,
cancelling and crash recovery behave the same in both modes.

Execution is crash-safe by construction: a job kind does its long work in short read transactions,
reporting progress (its own short transactions, which also renew the lease and read the cancel flag)
between them, and its final writes in one transaction that also locks the job row, re-checks the
cancel flag and the lease, and marks the job ``done``. A worker killed halfway leaves nothing behind
but its lease; the redelivered job claims it again (at once when the holder's process is gone,
otherwise once the lease has expired) and starts over. No transaction stays open for long, which
matters on SQLite, where every transaction takes the one write lock.

**Bounded, and never hogging the runners.** Every attempt has a time limit (per kind: the kind's own,
overridden by settings, else the service's default). A job notices it at its next heartbeat or
progress report and fails with a message in words; Celery's soft and hard time limits
(``workers.dispatch``) stop a job stuck where it reports nothing; and whoever next looks at a job
overdue by more than its grace — a redelivery, the recovery scan, the embedded runner — marks it
failed, so a killed or stuck job is never left ``running``, and its late final transaction is
refused (its lease is gone).

A kind may also cap how many of its jobs run at once, across all workers (``max_running``;
``declaration.import`` runs one at a time by default). We chose a cap in the job table over a
separate Celery queue: it holds in both modes and on every deployment, whatever queues a worker
was started with, where a queue protects only as long as some workers are started without it.
The claim counts the kind's running jobs under a lock (PostgreSQL: an advisory lock per kind;
SQLite: its one write lock); a job over the cap stays queued and its message is dropped, and a job
of a capped kind that ends hands the oldest queued job of its kind to the dispatcher (the recovery
scan re-sends any that got lost). With at least one more worker slot than the sum of the caps
(Celery's ``-c``), other kinds — timers, reminders, notifications, 校验 — always find a free slot.
The embedded runner gives each capped kind its own thread (one job of the kind at a time) beside
the thread that runs everything else (``services.platform.background``).
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import zlib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib.metadata import entry_points
from typing import Any, Protocol

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text, create_engine, func, or_, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from engine.actors import Actor
from engine.db import Base, UnitOfWork, utcnow
from engine.errors import Conflict, EngineError, Forbidden, NotFound

log = logging.getLogger(__name__)


class JobStatus:
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    FINAL = (DONE, FAILED, CANCELLED)


STATUS_LABELS = {"queued": "排队中", "running": "进行中", "done": "已完成", "failed": "失败", "cancelled": "已取消"}


class Job(Base):
    __tablename__ = "job"
    __table_args__ = (Index("ix_job_status", "status", "updated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(20), default=JobStatus.QUEUED)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    instance_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)  # the case it belongs to
    region_code: Mapped[str] = mapped_column(String(6), default="")
    created_by: Mapped[str] = mapped_column(String(100))
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(120), default=None)  # host:pid:thread
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class JobCancelled(Exception):
    """Raised inside a running job when someone asked to cancel it."""


class LeaseLost(Exception):
    """Raised inside a running job whose lease another runner has taken over."""


class JobTimedOut(Exception):
    """Raised inside a running job that has used up its time limit."""


TIMED_OUT = "后台任务超过时限"


def time_limit_message(seconds: float) -> str:
    return f"{TIMED_OUT}（{seconds:g} 秒）仍未完成，已停止，没有保存任何结果"


def timed_out(job: Job) -> bool:
    """Whether a failed job was stopped by its time limit (rather than by an error)."""
    return job.status == JobStatus.FAILED and (job.error or "").startswith(TIMED_OUT)


def grace_seconds(limit: float) -> float:
    """How long past its limit a job that reports nothing may go on before it is stopped from outside
    (Celery's soft limit; its hard limit and the overdue scan come one more grace later)."""
    return min(30.0, max(1.0, limit / 10))


# Errors worth retrying later (database or broker briefly unreachable); everything else fails the job.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OperationalError, ConnectionError, TimeoutError)


def is_transient(error: BaseException) -> bool:
    return isinstance(error, TRANSIENT_ERRORS) or (isinstance(error, DBAPIError) and error.connection_invalidated)


class Dispatcher(Protocol):
    """Hands a committed job id to whatever executes jobs, with the attempt's time limit in seconds."""

    def enqueue(self, job_id: int, time_limit: float) -> None: ...


class PollingDispatcher:
    """The embedded default: the runner's threads poll the job table, enqueueing only wakes them up."""

    def __init__(self) -> None:
        self.wakeups: list[threading.Event] = []

    def subscribe(self) -> threading.Event:
        """An event set at every enqueue (one per runner thread, each clearing its own)."""
        event = threading.Event()
        self.wakeups.append(event)
        return event

    def enqueue(self, job_id: int, time_limit: float) -> None:
        for event in list(self.wakeups):
            event.set()


def dispatcher_for(broker_url: str | None) -> Dispatcher:
    """The polling dispatcher without a broker; with one, the Celery dispatcher that ``workers/``
    registers as the ``banjian.dispatchers`` entry point (services/ and web/ never import Celery)."""
    if not broker_url:
        return PollingDispatcher()
    found = entry_points(group="banjian.dispatchers", name="celery")
    if not found:
        raise RuntimeError("BANJIAN_BROKER_URL is set but the Celery dispatcher is not installed "
                           "(pip install -e . registers the banjian.dispatchers entry point)")
    return next(iter(found)).load()(broker_url)


@dataclass
class JobKind:
    run: Callable[[JobContext], dict[str, Any] | None]
    # called in the transaction that marks a job cancelled or failed (e.g. to tell the waiting case)
    on_stop: Callable[[UnitOfWork, Job], None] | None = None
    # False for work that carries out a decision already taken (入库 after 复核): it may fail and be
    # retried, but nobody can call it off
    cancellable: bool = True
    time_limit: float | None = None  # seconds per attempt; None: the service's default
    max_running: int | None = None  # jobs of this kind running at once, across all workers; None: no cap


class JobContext:
    """What a job kind's ``run`` gets: its parameters, progress reporting and the final transaction."""

    HEARTBEAT_UNITS = 2000  # a heartbeat reports progress after this many more units done …
    HEARTBEAT_SECONDS = 1.0  # … or this long after the last report, whichever comes first

    def __init__(self, service: JobService, job: Job, owner: str):
        self.service = service
        self.job_id = job.id
        self.params = dict(job.params)
        self.instance_id = job.instance_id
        self.owner = owner
        self.finished_with: dict[str, Any] | None = None
        self.time_limit = service.time_limit_for(job.kind)
        self.deadline = time.monotonic() + self.time_limit
        self._reported_done, self._reported_at = 0, time.monotonic()

    def heartbeat(self, done: int, total: int) -> None:
        """Cheap enough to call after every row: checks the time limit, and reports progress (which
        renews the lease and reads the cancel flag) every ``HEARTBEAT_UNITS`` units or
        ``HEARTBEAT_SECONDS``, so that a cancel is honoured within a second or two however slowly
        the units come."""
        now = time.monotonic()
        if now > self.deadline:
            raise JobTimedOut()
        if done - self._reported_done >= self.HEARTBEAT_UNITS or now - self._reported_at >= self.HEARTBEAT_SECONDS:
            self.progress(done, max(total, done))

    def progress(self, done: int, total: int) -> None:
        """Record progress and renew the lease; raises JobCancelled once a cancel was requested, and
        JobTimedOut once the attempt's time limit has passed."""
        if time.monotonic() > self.deadline:
            raise JobTimedOut()
        self._reported_done, self._reported_at = done, time.monotonic()
        now = utcnow()
        with self.service.unit_of_work() as uow:
            row = uow.session.execute(
                update(Job).where(Job.id == self.job_id, Job.lease_owner == self.owner)
                .values(progress_done=done, progress_total=total, updated_at=now, lease_until=now + self.service.lease)
                .returning(Job.cancel_requested)).first()
            uow.commit()
        if row is None:
            raise LeaseLost()
        if row[0]:
            raise JobCancelled()

    def finish(self, write: Callable[[UnitOfWork], dict[str, Any]]) -> dict[str, Any]:
        """Run the job's final writes and mark it done, in one transaction (all or nothing)."""
        with self.service.unit_of_work() as uow:
            result = write(uow)
            job = uow.session.scalars(select(Job).where(Job.id == self.job_id).with_for_update()).one()
            if job.status != JobStatus.RUNNING or job.lease_owner != self.owner:
                raise LeaseLost()
            if job.cancel_requested:
                raise JobCancelled()
            now = utcnow()
            job.status, job.result, job.finished_at, job.updated_at = JobStatus.DONE, result, now, now
            job.progress_done = job.progress_total = max(job.progress_done, job.progress_total)
            job.lease_owner = job.lease_until = None
            uow.commit()
        self.finished_with = result
        return result


def reader_engine(db: Engine) -> Engine:
    """The engine for long read-only work. On SQLite ``engine.db`` begins every transaction IMMEDIATE,
    taking the single write lock even to read; a job reading a large batch through it would keep
    every request waiting. This second engine begins transactions the default (deferred) way, so its
    reads run beside the writers under WAL."""
    if db.dialect.name != "sqlite":
        return db
    return create_engine(db.url, connect_args={"check_same_thread": False, "timeout": 30})


def _process_gone(owner: str | None) -> bool:
    """True when a lease holder on this machine has died (a SIGKILLed worker leaves its lease behind)."""
    if not owner:
        return True
    host, _, rest = owner.partition(":")
    pid = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False  # one of our own threads; it is alive while we run
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class JobService:
    """Submits, executes, cancels and reports jobs. Built once by the composition root."""

    def __init__(self, session_factory: sessionmaker[Session], dispatcher: Dispatcher, *, lease_seconds: int = 60,
                 time_limit: float = 1800.0, time_limits: Mapping[str, float] | None = None,
                 max_running: Mapping[str, int] | None = None):
        self.session_factory = session_factory
        self.readers = sessionmaker(reader_engine(session_factory.kw["bind"]), expire_on_commit=False)
        self.dispatcher = dispatcher
        self.lease = timedelta(seconds=lease_seconds)
        self.kinds: dict[str, JobKind] = {}
        self.default_time_limit = time_limit
        self.time_limits = dict(time_limits or {})  # per kind, over the kinds' own
        self.max_running_overrides = dict(max_running or {})

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory)

    def reading(self) -> UnitOfWork:
        """A unit of work for a job's long read-only phase (never committed with writes)."""
        return UnitOfWork(self.readers)

    def register(self, kind: str, run: Callable[[JobContext], dict[str, Any] | None],
                 on_stop: Callable[[UnitOfWork, Job], None] | None = None, *, cancellable: bool = True,
                 time_limit: float | None = None, max_running: int | None = None) -> None:
        if kind in self.kinds:
            raise ValueError(f"job kind {kind!r} is registered twice")
        self.kinds[kind] = JobKind(run, on_stop, cancellable, time_limit, max_running)

    def time_limit_for(self, kind: str) -> float:
        """Seconds an attempt of ``kind`` may run: the setting for the kind, the kind's own, or the default."""
        return self.time_limits.get(kind) or self.kinds[kind].time_limit or self.default_time_limit

    def max_running_for(self, kind: str) -> int | None:
        return self.max_running_overrides.get(kind, self.kinds[kind].max_running)

    def capped_kinds(self) -> list[str]:
        return [kind for kind in self.kinds if self.max_running_for(kind) is not None]

    # ------------------------------------------------------------------ submitting
    def submit(self, session: Session, after_commit: Callable[[Callable[[], None]], None], kind: str,
               params: dict[str, Any], *, created_by: str, region_code: str = "", instance_id: int | None = None,
               total: int = 0) -> Job:
        """Record a job in the caller's transaction; it is handed to a worker once that commits."""
        if kind not in self.kinds:
            raise ValueError(f"unknown job kind {kind!r}")
        job = Job(kind=kind, params=params, created_by=created_by, region_code=region_code,
                  instance_id=instance_id, progress_total=total)
        session.add(job)
        session.flush()
        job_id = job.id
        after_commit(lambda: self._dispatch(job_id, kind))
        return job

    def _dispatch(self, job_id: int, kind: str) -> None:
        try:
            self.dispatcher.enqueue(job_id, self.time_limit_for(kind))
        except Exception:  # the job is committed; the recovery scan hands it out again
            log.exception("could not enqueue job %s; it stays queued for the recovery scan", job_id)

    def redispatch(self, job_ids: Collection[int]) -> None:
        """Hand jobs to the dispatcher again (the recovery scan)."""
        if not job_ids:
            return
        with self.unit_of_work() as uow:
            kinds = dict(uow.session.execute(select(Job.id, Job.kind).where(Job.id.in_(job_ids))).tuples())
        for job_id, kind in kinds.items():
            if kind in self.kinds:
                self._dispatch(job_id, kind)

    # ------------------------------------------------------------------ executing
    def execute(self, job_id: int, timeout_errors: tuple[type[BaseException], ...] = ()) -> str:
        """Run one job if it is there to run. Returns the outcome: done, cancelled, failed, deferred (its
        kind runs as many jobs as it may; it stays queued) or skipped (finished already, or running
        under a live lease elsewhere). ``timeout_errors``: what the executor raises at its own time
        limit (Celery's soft limit), reported like the job's own. Transient errors propagate so that
        the caller retries later; the job is then back in the queue."""
        owner = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        claimed = self._claim(job_id, owner)
        if isinstance(claimed, str):
            return claimed
        job = claimed
        if job.status == JobStatus.CANCELLED:
            return "cancelled"
        try:
            return self._run(job, owner, timeout_errors)
        finally:
            self._start_next(job.kind)

    def _run(self, job: Job, owner: str, timeout_errors: tuple[type[BaseException], ...]) -> str:
        job_id = job.id
        context = JobContext(self, job, owner)
        stop_errors: tuple[type[BaseException], ...] = (JobTimedOut, *timeout_errors)
        try:
            result = self.kinds[job.kind].run(context)
            if context.finished_with is None:
                context.finish(lambda _uow: result or {})
            return "done"
        except JobCancelled:
            self._stop(job_id, JobStatus.CANCELLED, None)
            return "cancelled"
        except LeaseLost:
            return "skipped"
        except stop_errors:
            log.warning("job %s (%s) stopped at its time limit of %s s", job_id, job.kind, context.time_limit)
            self._stop(job_id, JobStatus.FAILED, time_limit_message(context.time_limit))
            return "failed"
        except Exception as error:
            if is_transient(error):
                self._requeue(job_id, owner)
                raise
            log.exception("job %s (%s) failed", job_id, job.kind)
            self._stop(job_id, JobStatus.FAILED, f"{error.__class__.__name__}: {error}"[:2000])
            return "failed"

    def _claim(self, job_id: int, owner: str) -> Job | str:
        with self.unit_of_work() as uow:
            job = uow.session.scalars(select(Job).where(Job.id == job_id).with_for_update()).first()
            if job is None or job.status in JobStatus.FINAL:
                return "skipped"
            now = utcnow()
            if job.status == JobStatus.RUNNING:
                if self._overdue(job, now):
                    self._mark_stopped(uow, job, JobStatus.FAILED, time_limit_message(self.time_limit_for(job.kind)))
                    uow.commit()
                    self._start_next(job.kind)
                    return "failed"
                if job.lease_until and job.lease_until > now and not _process_gone(job.lease_owner):
                    return "skipped"
            if job.cancel_requested:
                self._mark_stopped(uow, job, JobStatus.CANCELLED, None)
                uow.commit()
                return job
            cap = self.max_running_for(job.kind)
            if cap is not None and self._running_count(uow.session, job, now) >= cap:
                return "deferred"
            job.status, job.attempts = JobStatus.RUNNING, job.attempts + 1
            job.lease_owner, job.lease_until = owner, now + self.lease
            job.started_at = now  # of this attempt: its time limit counts from here
            job.updated_at, job.progress_done = now, 0
            uow.commit()
            return job

    def _running_count(self, session: Session, job: Job, now: datetime) -> int:
        """Other jobs of the job's kind running under a live lease, counted under a lock that makes
        concurrent claims of the kind take turns (SQLite's write lock does so already)."""
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(job.kind.encode())})
        return session.scalars(select(func.count()).select_from(Job).where(
            Job.kind == job.kind, Job.status == JobStatus.RUNNING, Job.id != job.id, Job.lease_until > now)).one()

    def _start_next(self, kind: str) -> None:
        """A job of a capped kind has ended: hand the oldest queued job of its kind to the dispatcher."""
        if self.max_running_for(kind) is None:
            return
        try:
            with self.unit_of_work() as uow:
                next_id = uow.session.scalar(select(Job.id).where(Job.kind == kind, Job.status == JobStatus.QUEUED)
                                             .order_by(Job.id).limit(1))
        except Exception:  # the recovery scan re-sends queued jobs anyway
            log.warning("could not look for the next queued %s job", kind)
            return
        if next_id is not None:
            self._dispatch(next_id, kind)

    def _overdue(self, job: Job, now: datetime) -> bool:
        """Running past its time limit and two graces: whoever finds it marks it failed."""
        if job.kind not in self.kinds or job.started_at is None:
            return False
        limit = self.time_limit_for(job.kind)
        return now > job.started_at + timedelta(seconds=limit + 2 * grace_seconds(limit))

    def fail_overdue(self, now: datetime | None = None) -> list[int]:
        """Mark failed every running job overdue by more than its grace (stuck where it reports nothing,
        or its worker killed at the hard limit); their late final transactions are then refused."""
        now = now or utcnow()
        with self.unit_of_work() as uow:
            running = uow.session.scalars(select(Job).where(Job.status == JobStatus.RUNNING)).all()
            overdue = [job.id for job in running if self._overdue(job, now)]
        for job_id in overdue:
            with self.unit_of_work() as uow:
                job = uow.session.scalars(select(Job).where(Job.id == job_id).with_for_update()).one()
                if job.status != JobStatus.RUNNING or not self._overdue(job, now):
                    continue
                log.warning("job %s (%s) overdue: marked failed", job.id, job.kind)
                self._mark_stopped(uow, job, JobStatus.FAILED, time_limit_message(self.time_limit_for(job.kind)))
                uow.commit()
                kind = job.kind
            self._start_next(kind)
        return overdue

    def _requeue(self, job_id: int, owner: str) -> None:
        try:
            with self.unit_of_work() as uow:
                uow.session.execute(update(Job).where(Job.id == job_id, Job.lease_owner == owner).values(
                    status=JobStatus.QUEUED, lease_owner=None, lease_until=None, updated_at=utcnow()))
                uow.commit()
        except Exception:  # the database itself may be what is down; the lease then expires on its own
            log.warning("could not put job %s back in the queue", job_id)

    def _stop(self, job_id: int, status: str, error: str | None) -> None:
        with self.unit_of_work() as uow:
            job = uow.session.scalars(select(Job).where(Job.id == job_id).with_for_update()).one()
            if job.status in JobStatus.FINAL:
                return
            self._mark_stopped(uow, job, status, error)
            uow.commit()

    def _mark_stopped(self, uow: UnitOfWork, job: Job, status: str, error: str | None) -> None:
        now = utcnow()
        job.status, job.error, job.finished_at, job.updated_at = status, error, now, now
        job.lease_owner = job.lease_until = None
        on_stop = self.kinds[job.kind].on_stop
        if on_stop is not None:
            try:
                with uow.session.begin_nested():
                    on_stop(uow, job)
            except EngineError as problem:  # e.g. the case has ended meanwhile; the job still stops
                log.warning("job %s stopped, but its case could not be told: %s", job.id, problem.message)

    # ------------------------------------------------------------------ polling (embedded runner, recovery)
    def runnable_ids(self, session: Session, now: datetime, *, queued_before: datetime | None = None,
                     limit: int = 100, kinds: Collection[str] | None = None,
                     other_than: Collection[str] = ()) -> list[int]:
        """Queued jobs (optionally only those waiting since before ``queued_before``) and running jobs
        whose lease has expired, oldest first; of ``kinds`` only, or of kinds other than ``other_than``."""
        queued = Job.status == JobStatus.QUEUED
        if queued_before is not None:
            queued = queued & (Job.updated_at < queued_before)
        expired = (Job.status == JobStatus.RUNNING) & (Job.lease_until < now)
        query = select(Job.id).where(or_(queued, expired))
        if kinds is not None:
            query = query.where(Job.kind.in_(kinds))
        if other_than:
            query = query.where(Job.kind.not_in(other_than))
        return list(session.scalars(query.order_by(Job.id).limit(limit)))

    def run_pending(self, limit: int = 100, *, kinds: Collection[str] | None = None,
                    other_than: Collection[str] = ()) -> int:
        """Execute every runnable job (of ``kinds`` only, or of kinds other than ``other_than``) in this
        thread (an embedded runner thread's step). Returns how many ran."""
        with self.unit_of_work() as uow:
            ids = self.runnable_ids(uow.session, utcnow(), limit=limit, kinds=kinds, other_than=other_than)
        return sum(1 for job_id in ids if self.execute(job_id) not in ("skipped", "deferred"))

    # ------------------------------------------------------------------ users
    def get_visible(self, session: Session, job_id: int, actor: Actor, applicant_roles: frozenset[str]) -> Job:
        """A job its creator, or staff of its region, may see."""
        job = session.get(Job, job_id)
        if job is None or not _may_see(job, actor, applicant_roles):
            raise NotFound("后台任务不存在或不在您的管辖范围内")
        return job

    def for_instance(self, session: Session, instance_id: int) -> list[Job]:
        return list(session.scalars(select(Job).where(Job.instance_id == instance_id).order_by(Job.id)))

    def cancel(self, uow: UnitOfWork, job_id: int, actor: Actor, applicant_roles: frozenset[str]) -> Job:
        """Ask a job to stop. A queued job stops at once; a running one at its next progress report.
        Only its creator, or a supervisor or administrator of its region, may: cancelling a case's
        校验 withdraws the declaration, which is no business of every member of staff who may watch
        it (a designer, a spot checker, a national catalogue administrator)."""
        seen = self.get_visible(uow.session, job_id, actor, applicant_roles)
        if seen.created_by != actor.username and not (actor.holds("supervisor", seen.region_code)
                                                      or actor.holds("admin", seen.region_code)):
            raise Forbidden("只有发起该后台任务的用户、督办人员或系统管理员可以取消它")
        job = uow.session.scalars(select(Job).where(Job.id == job_id).with_for_update()).one()
        if job.status == JobStatus.CANCELLED:
            return job
        if job.status in JobStatus.FINAL:
            raise Conflict(f"后台任务已结束（{STATUS_LABELS[job.status]}），不能取消")
        if not self.kinds[job.kind].cancellable:
            raise Conflict("该后台任务执行的是已作出的决定，不能取消；失败后可由督办人员重试")
        job.cancel_requested = True
        job.updated_at = utcnow()
        if job.status == JobStatus.QUEUED:
            self._mark_stopped(uow, job, JobStatus.CANCELLED, None)
        return job

    def retry(self, uow: UnitOfWork, job_id: int, actor: Actor, applicant_roles: frozenset[str]) -> Job:
        """Run a failed job again (supervisors and administrators of its region)."""
        job = self.get_visible(uow.session, job_id, actor, applicant_roles)
        if not (actor.holds("supervisor", job.region_code) or actor.holds("admin", job.region_code)):
            raise Forbidden("只有督办人员或系统管理员可以重试失败的后台任务")
        if job.status != JobStatus.FAILED:
            raise Conflict("只有失败的后台任务可以重试")
        job.status, job.error, job.finished_at, job.updated_at = JobStatus.QUEUED, None, None, utcnow()
        uow.after_commit(lambda: self._dispatch(job_id, job.kind))
        return job


def _may_see(job: Job, actor: Actor, applicant_roles: frozenset[str]) -> bool:
    if job.created_by == actor.username:
        return True
    return bool(job.region_code) and any(
        role not in applicant_roles and actor.holds(role, job.region_code) for role in actor.roles)
