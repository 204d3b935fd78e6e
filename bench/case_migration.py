"""Case migration (版本迁移): the batch job that moves every running case of a process version to a
new version, one unit of work per case.

On PostgreSQL when the local server answers (the database ``banjian_bench_migration``, dropped and
re-created), else on a fresh SQLite database: deploys a small process (受理 → 初审 → 审批), starts
``--cases`` real cases through the engine and takes each to 初审, deploys a changed version (初审's
BPMN id renamed, a 复核 step added), runs the batch migration job with the mapping ``review=first_review``
and times it; then checks every case: on the new version, exactly one open task, at the renamed step.

    python bench/case_migration.py [--cases 1000] [--sqlite]

Last line: ``case migration: N cases in S s, K inconsistent``.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select  # noqa: E402

from bench.common import fresh_postgres, fresh_sqlite, postgres_available  # noqa: E402
from engine.actors import Actor  # noqa: E402
from engine.models import HumanTask, ProcessInstance, TaskStatus  # noqa: E402
from services import schema  # noqa: E402
from services.bootstrap import Settings, bootstrap  # noqa: E402
from services.platform import case_repair  # noqa: E402
from services.platform.jobs import Job  # noqa: E402

KEY = "bench_migration"
REVIEWER = Actor("reviewer", frozenset({("reviewer", "110000")}))
SUPERVISOR = Actor("supervisor", frozenset({("supervisor", "110000")}))
V1 = [("accept", "受理"), ("review", "初审"), ("approve", "审批")]
V2 = [("accept", "受理"), ("first_review", "初审"), ("recheck", "复核"), ("approve", "审批")]


def process(steps: list[tuple[str, str]]) -> bytes:
    """start → the manual steps in order → end, in the reviewers' lane."""
    ids = ["start", *[step for step, _ in steps], "end"]
    refs = "".join(f"<bpmn:flowNodeRef>{i}</bpmn:flowNodeRef>" for i in ids)
    tasks = "".join(f'<bpmn:manualTask id="{step}" name="{name}" />' for step, name in steps)
    flows = "".join(f'<bpmn:sequenceFlow id="f{n}" sourceRef="{a}" targetRef="{b}" />'
                    for n, (a, b) in enumerate(zip(ids, ids[1:], strict=False)))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" targetNamespace="http://bench">
  <bpmn:process id="{KEY}" name="迁移基准" isExecutable="true">
    <bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="startableBy" value="reviewer" />
    </spiffworkflow:properties></bpmn:extensionElements>
    <bpmn:laneSet id="ls"><bpmn:lane id="lane1" name="reviewer">{refs}</bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start" />{tasks}<bpmn:endEvent id="end" />{flows}
  </bpmn:process>
</bpmn:definitions>""".encode()


def deploy(runtime, steps) -> int:
    with runtime.unit_of_work() as uow:
        [result] = runtime.deployer.deploy(uow.session, [(process(steps), f"{KEY}.bpmn")], "bench")
        uow.commit()
    return result.definition_id


def seed(runtime, count: int) -> None:
    """``count`` real cases, each started and taken through 受理 to 初审 by the engine."""
    for n in range(count):
        with runtime.unit_of_work() as uow:
            instance = runtime.engine.start(uow, KEY, business_key=f"MIG-{n:05d}", region_code="110101",
                                            data={"amount": n, "applicant": f"申请人{n}"}, actor=REVIEWER)
            runtime.engine.complete_task(uow, instance.open_task_ids[0], REVIEWER, {"conclusion": "收件"})
            uow.commit()


def inconsistent(runtime, source: int, target: int) -> list[str]:
    """Cases not on the target version with exactly one open task at the renamed step (and kept data)."""
    problems = []
    with runtime.unit_of_work() as uow:
        cases = list(uow.session.scalars(select(ProcessInstance).where(ProcessInstance.process_key == KEY)))
        open_steps: dict[int, list[str]] = {}
        for instance_id, name in uow.session.execute(select(HumanTask.instance_id, HumanTask.name).where(
                HumanTask.process_key == KEY, HumanTask.status == TaskStatus.OPEN)):
            open_steps.setdefault(instance_id, []).append(name)
        for case in cases:
            steps = open_steps.get(case.id, [])
            if case.definition_id == source:
                problems.append(f"{case.business_key}: still on the old version")
            elif case.definition_id != target or steps != ["first_review"]:
                problems.append(f"{case.business_key}: version {case.process_version}, open {steps}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--sqlite", action="store_true", help="measure SQLite even when PostgreSQL answers")
    args = parser.parse_args()
    on_postgres = not args.sqlite and postgres_available()
    url = fresh_postgres("banjian_bench_migration") if on_postgres else fresh_sqlite("migration")
    runtime = bootstrap(Settings(database_url=url))
    schema.upgrade(runtime.db)
    database = "postgresql" if on_postgres else "sqlite"

    source = deploy(runtime, V1)
    began = time.perf_counter()
    seed(runtime, args.cases)
    print(f"seeded {args.cases} cases at 初审 on {database} in {time.perf_counter() - began:.1f} s")
    target = deploy(runtime, V2)
    mapping = {"review": "first_review"}
    with runtime.unit_of_work() as uow:
        began = time.perf_counter()
        plan = case_repair.plan_batch(uow, runtime.engine, SUPERVISOR, source, target, mapping)
        dry = time.perf_counter() - began
    print(f"dry run: {plan.movable} movable, {plan.refused} refused in {dry:.1f} s; "
          + "; ".join(f"{words} × {n}" for words, n in plan.summary()))
    with runtime.unit_of_work() as uow:
        job = case_repair.submit_batch(uow.session, runtime.jobs, uow.after_commit, SUPERVISOR, source, target,
                                       mapping)
        uow.commit()
        job_id = job.id
    began = time.perf_counter()
    runtime.jobs.run_pending(kinds=[case_repair.KIND])
    elapsed = time.perf_counter() - began
    with runtime.unit_of_work() as uow:
        done = uow.session.get(Job, job_id)
        status, result = (done.status, done.result or {}) if done is not None else ("missing", {})
    print(f"job {job_id}: {status}, {result.get('migrated')} migrated, {result.get('refused')} refused; "
          f"{args.cases / elapsed:.0f} cases/s")
    problems = inconsistent(runtime, source, target)
    for line in problems[:10]:
        print("inconsistent:", line)
    print(f"case migration: {args.cases} cases in {elapsed:.1f} s, {len(problems)} inconsistent")


if __name__ == "__main__":
    main()
