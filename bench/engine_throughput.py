"""Engine throughput: full declaration lifecycles (submit → 校验 → 初审 → 复核) through the engine's
Python API with persistence, on SQLite and on PostgreSQL when available, against the same BPMN run
in memory with bare SpiffWorkflow. Then the cost of one completion with 10 and with 100,000 other
instances in the database.

    python bench/engine_throughput.py [--lifecycles 200] [--others 100000]

Last line: the persisted/in-memory ratio on PostgreSQL (or SQLite when PostgreSQL is absent).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from SpiffWorkflow.bpmn import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine  # noqa: E402
from SpiffWorkflow.task import TaskState  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from bench.common import fresh_postgres, fresh_sqlite, postgres_available, seeded_runtime  # noqa: E402
from engine.actors import Actor  # noqa: E402
from engine.definitions import build_parser, files_under  # noqa: E402
from engine.forms import FormRegistry  # noqa: E402
from engine.models import HumanTask, ProcessInstance  # noqa: E402
from services import declarations  # noqa: E402
from services.demo import demo_id_number  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ENTERPRISE = Actor("enterprise", frozenset({("enterprise", "110101")}), "110101000001")
REVIEWER = Actor("reviewer", frozenset({("reviewer", "110000")}))
RECHECKER = Actor("rechecker", frozenset({("rechecker", "110000")}))


def persons_for(serial: int) -> list[declarations.PersonInput]:
    birth = date(1960 + serial % 30, 1 + serial % 12, 1 + serial % 28)
    return [declarations.PersonInput(demo_id_number("110101", birth, 101 + 2 * (serial % 440)), f"人员{serial}",
                                     "male", birth,
                                     [{"work_type_code": "MT001", "start_date": date(birth.year + 20, 1, 1),
                                       "end_date": date(birth.year + 30, 1, 1)}])]


def open_task_id(runtime, instance_id: int) -> str:
    with runtime.unit_of_work() as uow:
        return uow.session.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                              HumanTask.status == "open")).one()


def lifecycle(runtime, serial: int) -> None:
    with runtime.unit_of_work() as uow:
        batch = declarations.submit_declaration(uow, runtime.engine, ENTERPRISE, "110101000001", "first",
                                                persons_for(serial))
        uow.commit()
        instance_id = batch.instance_id
    for who in (REVIEWER, RECHECKER):
        task_id = open_task_id(runtime, instance_id)
        with runtime.unit_of_work() as uow:
            runtime.engine.complete_task(uow, task_id, who, {"decision": "approve"})
            uow.commit()


def persisted_rate(runtime, count: int) -> float:
    lifecycle(runtime, 0)  # warm the spec cache
    started = time.perf_counter()
    for serial in range(1, count + 1):
        lifecycle(runtime, serial)
    return count / (time.perf_counter() - started)


class InMemoryServices(PythonScriptEngine):
    """Service tasks answer at once with a clean validation result: no database at all."""

    def call_service(self, task, **kwargs):
        return json.dumps({"error_count": 0, "person_count": 1, "error_persons": [], "finding_count": 0})


def in_memory_rate(count: int) -> float:
    parser = build_parser(files_under([ROOT / "processes"]))
    spec = parser.get_spec("first_declaration_review")
    subprocess_specs = parser.get_subprocess_specs("first_declaration_review")
    engine = InMemoryServices()
    forms = FormRegistry(ROOT / "forms")
    started = time.perf_counter()
    for serial in range(count):
        workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=engine)
        workflow.task_tree.data.update({"batch_id": serial, "batch_no": f"B{serial}", "kind": "first"})
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(workflow.task_tree.data)
        workflow.do_engine_steps()
        for _ in range(2):
            task = workflow.get_tasks(state=TaskState.READY, manual=True)[0]
            form = forms.get(task.task_spec.extensions["properties"]["formKey"])
            task.data.update(form.validate({"decision": "approve"}))
            task.run()
            workflow.do_engine_steps()
        assert workflow.is_completed()
    return count / (time.perf_counter() - started)


def add_other_instances(runtime, total: int) -> None:
    """Bulk-insert ``total`` waiting instances with one open task each, cloned from a real one."""
    with runtime.unit_of_work() as uow:
        batch = declarations.submit_declaration(uow, runtime.engine, ENTERPRISE, "110101000001", "first",
                                                persons_for(999_999))
        uow.commit()
        template = uow.session.get(ProcessInstance, batch.instance_id)
        task = uow.session.scalars(select(HumanTask).where(HumanTask.instance_id == template.id)).one()
    chunk = 5_000
    with runtime.db.begin() as conn:
        for start in range(0, total, chunk):
            keys = [f"OTHER{n}" for n in range(start, min(start + chunk, total))]
            ids = conn.execute(insert(ProcessInstance).returning(ProcessInstance.id, sort_by_parameter_order=True), [{
                "definition_id": template.definition_id, "process_key": template.process_key,
                "process_version": template.process_version, "business_key": key,
                "region_code": template.region_code, "status": "waiting", "started_by": "bench",
                "submitter": "bench", "search_text": "", "state": template.state, "lock_version": 1,
                "started_at": template.started_at, "updated_at": template.updated_at} for key in keys]).scalars()
            conn.execute(insert(HumanTask), [{
                "id": str(uuid.uuid4()), "instance_id": i, "process_key": task.process_key,
                "process_version": task.process_version, "business_key": key, "name": task.name,
                "label": task.label, "form_key": task.form_key, "lane": task.lane, "region_code": task.region_code,
                "submitter": "bench", "status": "open", "created_at": task.created_at}
                for i, key in zip(ids, keys, strict=True)])
    if runtime.db.dialect.name == "postgresql":
        with runtime.db.connect() as conn:
            conn.exec_driver_sql("ANALYZE")


def completion_ms(runtime, samples: int, offset: int) -> float:
    """Median milliseconds of one 初审 completion (the transaction only)."""
    timings = []
    for serial in range(samples):
        with runtime.unit_of_work() as uow:
            batch = declarations.submit_declaration(uow, runtime.engine, ENTERPRISE, "110101000001", "first",
                                                    persons_for(offset + serial))
            uow.commit()
        task_id = open_task_id(runtime, batch.instance_id)
        started = time.perf_counter()
        with runtime.unit_of_work() as uow:
            runtime.engine.complete_task(uow, task_id, REVIEWER, {"decision": "approve"})
            uow.commit()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lifecycles", type=int, default=200)
    parser.add_argument("--others", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=30)
    args = parser.parse_args()

    memory = in_memory_rate(args.lifecycles)
    print(f"in-memory SpiffWorkflow: {memory:8.1f} lifecycles/s ({args.lifecycles} lifecycles)")
    databases = [("sqlite", fresh_sqlite("engine_throughput"))]
    if postgres_available():
        databases.append(("postgresql", fresh_postgres("banjian_bench_engine")))
    else:
        print("postgresql: not available, skipped")
    ratios = {}
    for name, url in databases:
        runtime = seeded_runtime(url)
        rate = persisted_rate(runtime, args.lifecycles)
        ratios[name] = rate / memory
        print(f"{name:10s} persisted: {rate:8.1f} lifecycles/s  ratio persisted/in-memory {ratios[name]:.3f}")
        few = completion_ms(runtime, args.samples, 10_000)
        add_other_instances(runtime, args.others)
        many = completion_ms(runtime, args.samples, 20_000)
        print(f"{name:10s} complete_task median: {few:6.2f} ms with ~{args.lifecycles + args.samples} instances, "
              f"{many:6.2f} ms with {args.others:,} more")
        runtime.db.dispose()
    headline = "postgresql" if "postgresql" in ratios else "sqlite"
    print(f"ratio persisted/in-memory on {headline}: {ratios[headline]:.3f}")


if __name__ == "__main__":
    main()
