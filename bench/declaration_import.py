"""Declaration import: a 100,000-person workbook uploaded and validated end to end through the
service functions — workbooks.import_declaration (streamed parse, every row and person checked,
batch stored, case started) and the 校验 job (services.special_work.batch_validation via the job service) —
then, timed apart, the 入库 that a 复核 approval runs (declarations.register_batch) — on SQLite
and on PostgreSQL when available. 20,000 of the persons are in the register already, so the
overlap check reads their periods (chunk by chunk, never the whole register).

    python bench/declaration_import.py [--persons 100000] [--register 20000]

Before the databases it prints what the workbook takes of the caps on reading one
(services.platform.xlsx_stream.Limits, the BANJIAN_XLSX_MAX_* settings): inflated bytes, XML elements, rows,
cells, shared strings. Each database runs in its own process so that its peak memory (ru_maxrss)
is its own. Besides
wall-clock seconds it prints the process's CPU seconds and the load average: on a shared 2-core
machine other work inflates wall time, never the CPU time. (The database server's own CPU is not in
the CPU figure.)
Last line: the headline (slowest database's seconds, rows/s and peak MB) against the target
of 30 s and 500 MB.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openpyxl import Workbook  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from bench.common import fresh_postgres, fresh_sqlite, postgres_available, seeded_runtime  # noqa: E402
from engine.actors import Actor  # noqa: E402
from services.bootstrap import Settings  # noqa: E402
from services.platform.demo_data import demo_id_number  # noqa: E402
from services.platform.xlsx_stream import Meter, iter_rows  # noqa: E402
from services.special_work import declarations, workbooks
from services.special_work.models import Person
from services.special_work.register import WorkHistory  # noqa: E402

ENTERPRISE = Actor("enterprise", frozenset({("enterprise", "110101")}), "110101000001")
TARGET_SECONDS, TARGET_MB = 30, 500


def id_number(n: int) -> str:
    """A distinct valid number per n: the region part varies so that few birth dates suffice."""
    birth = date(1960 + n % 20, 1 + n % 12, 1 + n % 28)
    return demo_id_number(f"11{n % 100:02d}{(n // 100) % 100:02d}", birth, (n // 10_000) % 1000)


def generate(path: Path, persons: int) -> None:
    """Write-only workbook in the template's layout, one work history per person."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("申报人员")
    sheet.append([f"{label}*" for _key, label, _required in workbooks.COLUMNS])
    for n in range(persons):
        number = id_number(n)
        birth = f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
        start_year = int(number[6:10]) + 20
        sheet.append([number, f"人员{n}", "男" if int(number[16]) % 2 else "女", birth,
                      "MT003 瓦斯检查工", f"{start_year}-03-01", f"{start_year + 9}-02-28"])
    book.save(path)


def seed_register(runtime, count: int) -> None:
    """The workbook's first ``count`` persons are in the register already (as in an annual
    declaration), with an earlier period that does not overlap, so the overlap check finds and
    compares their periods without reporting anything."""
    with runtime.unit_of_work() as uow:
        rows = [{"id_number": id_number(n), "name": f"人员{n}", "gender": "male",
                 "birth_date": date(1970, 1, 1), "region_code": "110101"} for n in range(count)]
        for start in range(0, count, 5000):
            uow.session.execute(insert(Person), rows[start:start + 5000])
        ids = list(uow.session.scalars(select(Person.id)))
        histories = [{"person_id": pid, "enterprise_code": "110101000001", "work_type_code": "MT001",
                      "start_date": date(2010, 1, 1), "end_date": date(2012, 12, 31), "batch_no": "",
                      "suspicious": False, "valid": True} for pid in ids]
        for start in range(0, len(histories), 5000):
            uow.session.execute(insert(WorkHistory), histories[start:start + 5000])
        uow.commit()


def workbook_figures(path: Path) -> str:
    """What reading the workbook takes, each figure beside its cap (the defaults, or BANJIAN_XLSX_MAX_*)."""
    limits = Settings.from_env().workbook_limits
    meter = Meter(limits)
    with zipfile.ZipFile(path) as archive:
        for _row in iter_rows(archive, workbooks.SHEET, meter, len(workbooks.COLUMNS)):
            pass
    figures = [("inflated", f"{meter.inflated / 1024 / 1024:.1f} MB", f"{limits.inflated_mb} MB",
                meter.inflated / limits.inflated_bytes),
               ("elements", f"{meter.elements:,}", f"{limits.elements:,}", meter.elements / limits.elements),
               ("rows", f"{meter.rows:,}", f"{limits.rows:,}", meter.rows / limits.rows),
               ("cells", f"{meter.cells:,}", f"{limits.cells:,}", meter.cells / limits.cells),
               ("shared strings", f"{meter.shared_strings:,}", f"{limits.shared_strings:,}",
                meter.shared_strings / limits.shared_strings),
               ("their length", f"{meter.shared_chars:,}", f"{limits.shared_chars:,}",
                meter.shared_chars / limits.shared_chars)]
    return "workbook against the caps: " + "; ".join(f"{name} {used} of {cap} ({share:.0%})"
                                                     for name, used, cap, share in figures)


def run_one(url: str, workbook: Path, register_size: int, persons: int) -> dict:
    runtime = seeded_runtime(url)
    seed_register(runtime, min(register_size, persons))
    content = workbook.read_bytes()
    started, cpu_started = time.perf_counter(), time.process_time()
    with runtime.unit_of_work() as uow:
        result = workbooks.import_declaration(uow, runtime.engine, ENTERPRISE, "110101000001", "first", content,
                                              limits=runtime.settings.workbook_limits)
        uow.commit()
        batch_id = result.batch.id if result.batch else None
    uploaded = time.perf_counter()
    if batch_id is None:
        raise SystemExit(f"import refused: {result.problem_count} problems, first: {result.problems[:3]}")
    runtime.jobs.run_pending()
    with runtime.unit_of_work() as uow:
        batch = declarations.get_batch(uow.session, batch_id)
        if batch.status != "reviewing":  # no job service configured: validate in place
            declarations.validate_batch(uow.session, batch_id)
            uow.commit()
            batch = declarations.get_batch(uow.session, batch_id)
        errors = batch.error_count
    finished, cpu = time.perf_counter(), time.process_time() - cpu_started
    with runtime.unit_of_work() as uow:  # 初审 and 复核 pass everyone (the bench skips the guard)
        declarations.decide_persons(uow.session, batch_id, "review", "approve", [], None, "bench")
        uow.commit()
    with runtime.unit_of_work() as uow:  # 入库, as the 复核 completion runs it
        register_started = time.perf_counter()
        declarations.register_batch(uow.session, batch_id)
        uow.commit()
        registered = time.perf_counter() - register_started
    runtime.db.dispose()
    return {"database": url.split(":", 1)[0], "persons": persons, "register": register_size,
            "upload_s": round(uploaded - started, 2), "validation_s": round(finished - uploaded, 2),
            "total_s": round(finished - started, 2), "register_s": round(registered, 2),
            "rows_per_s": round(persons / (finished - started)),
            "cpu_s": round(cpu, 2), "load": round(os.getloadavg()[0], 1),
            "error_persons": errors, "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--register", type=int, default=20_000)
    parser.add_argument("--run", help=argparse.SUPPRESS)
    parser.add_argument("--workbook", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        print(json.dumps(run_one(args.run, Path(args.workbook), args.register, args.persons)))
        return
    folder = Path(tempfile.mkdtemp(prefix="banjian-import-"))
    workbook = folder / "declaration.xlsx"
    started = time.perf_counter()
    generate(workbook, args.persons)
    print(f"generated {args.persons} persons in {time.perf_counter() - started:.1f} s "
          f"({workbook.stat().st_size / 1024 / 1024:.1f} MB)")
    print(workbook_figures(workbook))
    urls = [fresh_sqlite("import")] + ([fresh_postgres("banjian_bench_import")] if postgres_available() else [])
    results = []
    for url in urls:
        output = subprocess.run([sys.executable, __file__, "--run", url, "--workbook", str(workbook),
                                 "--persons", str(args.persons), "--register", str(args.register)],
                                check=True, capture_output=True, text=True).stdout
        results.append(json.loads(output.strip().splitlines()[-1]))
        r = results[-1]
        print(f"{r['database']:<18} upload {r['upload_s']:>6} s  validation {r['validation_s']:>6} s  "
              f"total {r['total_s']:>6} s  {r['rows_per_s']:>6} rows/s  peak {r['peak_mb']} MB  "
              f"(this process's CPU {r['cpu_s']} s; load average {r['load']}; "
              f"{r['error_persons']} persons with findings, register {r['register']}); "
              f"入库 at 复核 {r['register_s']} s")
    worst = max(results, key=lambda r: r["total_s"])
    heaviest = max(r["peak_mb"] for r in results)
    verdict = "OK" if worst["total_s"] < TARGET_SECONDS and heaviest < TARGET_MB else "OVER TARGET"
    print(f"declaration import of {args.persons} persons: {worst['total_s']} s ({worst['rows_per_s']} rows/s) on "
          f"{worst['database']}, peak {heaviest} MB — target < {TARGET_SECONDS} s and < {TARGET_MB} MB: {verdict}")


if __name__ == "__main__":
    main()
