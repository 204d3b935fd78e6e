"""历史数据采集: a workbook of 10,000 organisations, each with a licence and a filing, uploaded and
imported end to end through the service — history_import.queue_import (the upload's quick checks)
and the ``hr_market.history_import`` job run by the job service (streamed parse, every row checked,
the register's checks, bulk INSERTs, the audit entry) — on SQLite and on PostgreSQL when available
(``BANJIAN_BENCH_PG_ADMIN``, as for the other benchmarks).

    python bench/hr_history_import.py [--organisations 10000]

Each database runs in its own process with only the schema, the regions and the importing
administrator; its peak memory is the process's peak resident size from the start of the import
(VmHWM reset just before; the whole process's ru_maxrss where that cannot be done), which includes
the ~90 MB resident before it. Besides wall-clock seconds it prints the process's CPU seconds: on a
shared 2-core machine other work inflates wall time, never the CPU time.
Last line: the headline (the slowest database's seconds, the highest peak), for a target of
20 s and 300 MB.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openpyxl import Workbook  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bench.common import fresh_postgres, fresh_sqlite, postgres_available  # noqa: E402
from engine.actors import Actor  # noqa: E402
from services import schema  # noqa: E402
from services.bootstrap import Runtime, Settings, bootstrap  # noqa: E402
from services.hr_market import history_import  # noqa: E402
from services.hr_market.labels import FILING_ITEMS, LICENCE_ITEMS  # noqa: E402
from services.hr_market.models import HrFiling, HrLicence, HrOrganisation  # noqa: E402
from services.platform.credit_code import check_character  # noqa: E402
from services.platform.demo_data import REGIONS as REGION_ROWS  # noqa: E402
from services.platform.identity import Region, create_user  # noqa: E402
from services.platform.jobs import Job  # noqa: E402

ADMIN = Actor("admin", frozenset({("admin", "110000")}))  # an administrator of 北京市
REGIONS = ("110101", "110105")
TARGET_SECONDS, TARGET_MB = 20, 300


def credit_code(n: int, region: str) -> str:
    first17 = f"91{region}MB{n:07d}"
    return first17 + check_character(first17)


def generate(path: Path, organisations: int) -> None:
    """A write-only workbook in the template's layout: every organisation with a licence and a filing."""
    licence_items = "、".join(list(LICENCE_ITEMS.values())[:3])
    filing_items = "、".join(list(FILING_ITEMS.values())[2:5])
    book = Workbook(write_only=True)
    sheet = book.create_sheet(history_import.SHEET)
    sheet.append(list(history_import.TEMPLATE_COLUMNS))
    for n in range(organisations):
        region = REGIONS[n % 2]
        year = 2010 + n % 10
        sheet.append([f"天津市第{n}人力资源服务有限公司", credit_code(n, region), "企业", f"法人{n}",
                      f"示范路 {n} 号", region, f"联系人{n}", f"022-{n:08d}", f"{region}{year}{n:06d}",
                      f"{year}-03-01", f"{year + 5}-02-28", licence_items, f"{region}B{year}{n:06d}",
                      f"{year}-04-01", filing_items])
    book.save(path)


def bare_runtime(url: str) -> Runtime:
    """A runtime on ``url`` with the schema, the regions and the importing administrator only: the
    process's peak memory is then the import's (the demo data would add its own, larger, peak)."""
    runtime = bootstrap(Settings(database_url=url))
    schema.upgrade(runtime.db)
    with runtime.unit_of_work() as uow:
        uow.session.add_all(Region(code=code, name=name, level=level) for code, name, level in REGION_ROWS)
        uow.session.flush()
        create_user(uow.session, ADMIN.username, "bench", "110000", ["admin"], enforce_policy=False)
        uow.commit()
    return runtime


def reset_peak() -> float:
    """Start measuring the peak afresh (Linux: writing 5 to clear_refs resets VmHWM), so that what
    setting up the database took is not counted; returns the MB resident now."""
    with contextlib.suppress(OSError):  # not Linux, or not allowed: the peak then counts the set-up as well
        Path("/proc/self/clear_refs").write_text("5")
    return os.sysconf("SC_PAGE_SIZE") * int(Path("/proc/self/statm").read_text().split()[1]) / 1024 / 1024


def peak() -> float:
    """MB: the peak resident size since :func:`reset_peak` (VmHWM), else since the process began."""
    status = Path("/proc/self/status")
    found = [line for line in status.read_text().splitlines() if line.startswith("VmHWM:")] if status.exists() else []
    return int(found[0].split()[1]) / 1024 if found else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_one(url: str, workbook: Path, organisations: int) -> dict:
    runtime = bare_runtime(url)
    content = workbook.read_bytes()
    resident_mb = reset_peak()
    started, cpu_started = time.perf_counter(), time.process_time()
    with runtime.unit_of_work() as uow:
        job_id = history_import.queue_import(uow, runtime.jobs, ADMIN, workbook.name, content,
                                             runtime.settings.workbook_limits).id
        uow.commit()
    queued = time.perf_counter()
    outcome = runtime.jobs.execute(job_id)
    finished, cpu = time.perf_counter(), time.process_time() - cpu_started
    with runtime.unit_of_work() as uow:
        session = uow.session
        job = session.get(Job, job_id)
        if outcome != "done" or not (job.result or {}).get("imported"):
            raise SystemExit(f"import not done ({outcome}): {job.error or (job.result or {}).get('problems', [])[:3]}")
        counts = [session.scalar(select(func.count()).select_from(model).where(model.source == "history"))
                  for model in (HrOrganisation, HrLicence, HrFiling)]
    runtime.db.dispose()
    peak_mb = peak()
    return {"database": url.split(":", 1)[0], "organisations": organisations, "upload_s": round(queued - started, 2),
            "job_s": round(finished - queued, 2), "total_s": round(finished - started, 1),
            "rows_per_s": round(organisations / (finished - started)), "cpu_s": round(cpu, 2),
            "load": round(os.getloadavg()[0], 1), "imported": counts, "peak_mb": round(peak_mb),
            "resident_mb": round(resident_mb)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--organisations", type=int, default=10_000)
    parser.add_argument("--run", help=argparse.SUPPRESS)
    parser.add_argument("--workbook", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        print(json.dumps(run_one(args.run, Path(args.workbook), args.organisations)))
        return
    workbook = Path(tempfile.mkdtemp(prefix="banjian-hr-history-")) / "历史数据.xlsx"
    started = time.perf_counter()
    generate(workbook, args.organisations)
    size = workbook.stat().st_size
    print(f"generated {args.organisations} organisations in {time.perf_counter() - started:.1f} s "
          f"({size / 1024 / 1024:.2f} MB of the {history_import.MAX_UPLOAD_BYTES // 1024 // 1024} MB upload cap)")
    urls = [fresh_sqlite("hr_history")] + ([fresh_postgres("banjian_bench_hr_history")] if postgres_available() else [])
    results = []
    for url in urls:
        output = subprocess.run([sys.executable, __file__, "--run", url, "--workbook", str(workbook),
                                 "--organisations", str(args.organisations)],
                                check=True, capture_output=True, text=True).stdout
        r = json.loads(output.strip().splitlines()[-1])
        results.append(r)
        print(f"{r['database']:<18} upload {r['upload_s']:>5} s  job {r['job_s']:>5} s  total {r['total_s']:>5} s  "
              f"{r['rows_per_s']:>6} rows/s  peak {r['peak_mb']} MB (resident when the import "
              f"began {r['resident_mb']} MB; this process's CPU {r['cpu_s']} s; load average {r['load']}); "
              f"imported organisations/licences/filings {r['imported']}")
    worst = max(r["total_s"] for r in results)
    heaviest = max(r["peak_mb"] for r in results)
    verdict = "OK" if worst < TARGET_SECONDS and heaviest < TARGET_MB else "OVER TARGET"
    print(f"target < {TARGET_SECONDS} s and < {TARGET_MB} MB: {verdict}")
    print(f"hr history import: {args.organisations} organisations in {worst} s, peak {heaviest} MB")


if __name__ == "__main__":
    main()
