"""校验 of declaration batches: small batches at once, large ones as a background job.

The ``validate`` service task of the declaration review flow calls ``declaration.validate``. A batch
of at most ``inline_limit`` persons is validated in the submitting transaction (a few hundred rows
take milliseconds) and the operator returns the findings summary. A larger batch becomes a job and
the operator returns ``{"job_id": …}``; the flow then waits at a message catch event. The job checks
the batch chunk by chunk in short read transactions, reporting progress, and then delivers
``declaration_validated`` with the same summary in the one transaction that writes all findings and
marks the job done — so a crash never leaves half the findings, nor a case moved on without them.

Cancelling the job withdraws the submission: the case is terminated (the applicant submits again).
A failed job stays visible as failed and can be retried by a supervisor; the case keeps waiting.
"""
from __future__ import annotations

from typing import Any

from engine.actors import SYSTEM
from engine.db import UnitOfWork
from engine.errors import NotFound
from engine.operators import OperatorContext, OperatorRegistry
from engine.runtime import WorkflowEngine
from services.platform.jobs import Job, JobContext, JobService
from services.special_work import declarations

KIND = "declaration.validate"
MESSAGE = "declaration_validated"


def register(operators: OperatorRegistry, jobs: JobService, engine: WorkflowEngine, inline_limit: int) -> None:
    @operators.register("declaration.validate", example=declarations.VALIDATION_EXAMPLE)
    def validate_operator(ctx: OperatorContext, batch_id: int) -> dict[str, Any]:
        batch = declarations.batch_of_case(ctx, batch_id)
        if batch.person_count <= inline_limit:
            return declarations.validate_batch(ctx.session, batch.id)
        job = jobs.submit(ctx.session, ctx.after_commit, KIND, {"batch_id": batch.id}, created_by=ctx.actor,
                          region_code=ctx.region_code, instance_id=ctx.instance_id, total=batch.person_count)
        return {"job_id": job.id, "person_count": batch.person_count}

    def run(ctx: JobContext) -> dict[str, Any]:
        batch_id = int(ctx.params["batch_id"])
        findings: list[dict[str, Any]] = []
        with jobs.reading() as read:
            total = declarations.get_batch(read.session, batch_id).person_count
            for checked, found in declarations.check_batch(read.session, batch_id):
                findings += found
                read.session.commit()  # one short read transaction per chunk
                ctx.progress(checked, total)

        def write(uow: UnitOfWork) -> dict[str, Any]:
            result = declarations.store_checks(uow.session, batch_id, findings)
            if ctx.instance_id is None:  # the operator submits the job with its case's instance
                raise NotFound("办件不存在")
            engine.send_message(uow, ctx.instance_id, MESSAGE, result)
            return result

        return ctx.finish(write)

    def on_stop(uow: UnitOfWork, job: Job) -> None:
        if job.status == "cancelled" and job.instance_id is not None:
            engine.terminate(uow, job.instance_id, SYSTEM, "申报人或经办人取消了校验，申报已撤回")

    jobs.register(KIND, run, on_stop)
