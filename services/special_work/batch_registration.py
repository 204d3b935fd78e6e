"""入库 of declaration batches passed by 复核: small batches at once, large ones as a background job.

The ``register`` service task of the declaration review flow calls ``declaration.register`` after
every 复核 decision. When at most ``inline_limit`` persons wait to be registered, they are written
into the register in the rechecker's own transaction and the operator returns the counts. A larger
batch is marked 入库中, becomes a job, and the operator returns ``{"job_id": …}``; the flow then
waits at a message catch event, and the rechecker's click returns at once instead of after the
seconds a 100,000-person registration takes (bench/declaration_import.py).

The job registers the whole batch and delivers ``declaration_registered`` with the counts in ONE
transaction, so register and case never disagree and a crash leaves nothing half-registered. For
the same reason it reports no progress halfway: a progress row written from a second transaction
would, on SQLite, wait for the first. The job cannot be cancelled — 复核 has decided — but a failed
job stays visible as failed, the case keeps waiting, and a supervisor retries it, as with 校验.
"""
from __future__ import annotations

from typing import Any

from engine.db import UnitOfWork
from engine.errors import NotFound
from engine.operators import OperatorContext, OperatorRegistry
from engine.runtime import WorkflowEngine
from services.platform.jobs import JobContext, JobService
from services.special_work import declarations

KIND = "declaration.register"
MESSAGE = "declaration_registered"


def register(operators: OperatorRegistry, jobs: JobService, engine: WorkflowEngine, inline_limit: int) -> None:
    @operators.register(KIND, example={"registered_persons": 1, "work_histories": 1})
    def register_operator(ctx: OperatorContext, batch_id: int) -> dict[str, Any]:
        batch = declarations.batch_of_case(ctx, batch_id)
        # the batch's size bounds what is left to register: only a large batch is counted
        count = batch.person_count
        if count > inline_limit:
            count = declarations.persons_to_register(ctx.session, batch.id)
        if count <= inline_limit:
            return declarations.register_batch(ctx.session, batch.id)
        batch.status = "registering"
        job = jobs.submit(ctx.session, ctx.after_commit, KIND, {"batch_id": batch.id}, created_by=ctx.actor,
                          region_code=ctx.region_code, instance_id=ctx.instance_id, total=count)
        return {"job_id": job.id, "person_count": count}

    def run(ctx: JobContext) -> dict[str, Any]:
        batch_id = int(ctx.params["batch_id"])

        def write(uow: UnitOfWork) -> dict[str, Any]:
            result = declarations.register_batch(uow.session, batch_id)
            if ctx.instance_id is None:  # the operator submits the job with its case's instance
                raise NotFound("办件不存在")
            engine.send_message(uow, ctx.instance_id, MESSAGE, result)
            return result

        return ctx.finish(write)

    jobs.register(KIND, run, cancellable=False)
