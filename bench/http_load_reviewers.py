"""The reviewers of ``bench/http_load.py``: a locust file (``locust -f bench/http_load_reviewers.py``).

Each simulated reviewer signs in with the account ``BENCH_REVIEWER_PREFIX``NNN and works through
their county's 初审 inbox as a person at a screen does: look at the list, open the oldest task, read
the declaration, sometimes open the case, decide it, back to the list. Now and then they search the
inbox, page through it, or approve several ticked tasks at once. Think times are what a reviewer
spends reading (``THINK``); locust times every request, grouped by action name.

A reviewer decides only the cases seeded with a real declaration (business keys that do not start
with ``BG``); the cloned background cases only fill the inbox and the search. A refusal (400/409),
a server error or a wrong page counts as an error.
"""
from __future__ import annotations

import os
import random
import re
import threading
from itertools import count

import gevent
from locust import HttpUser, between, task

PREFIX = os.environ.get("BENCH_REVIEWER_PREFIX", "lr")
PASSWORD = os.environ.get("BENCH_PASSWORD", "bench-password")
REVIEWERS = int(os.environ.get("BENCH_REVIEWERS", "200"))
SCALE = float(os.environ.get("BENCH_THINK_SCALE", "1"))  # 0.1 in the suite's toy run: ten times the pace
THINK = (3 * SCALE, 12 * SCALE)  # between two tasks
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ROW = re.compile(r'name="task_ids" value="([0-9a-f-]{36})" aria-label="[^"]*?(\S+)"')
CASE = re.compile(r'href="/cases/(\d+)"')
_numbers = count(1)
_lock = threading.Lock()


def _next_account() -> str:
    with _lock:
        number = (next(_numbers) - 1) % REVIEWERS + 1
    return f"{PREFIX}{number:03d}"


class Reviewer(HttpUser):
    wait_time = between(*THINK)

    def on_start(self) -> None:
        self.username = _next_account()
        page = self.client.get("/signin", name="sign in (form)")
        token = CSRF.search(page.text).group(1)
        with self.client.post("/signin", data={"username": self.username, "password": PASSWORD, "csrf_token": token},
                              allow_redirects=False, name="sign in", catch_response=True) as answer:
            if answer.status_code != 302:
                answer.failure(f"sign-in answered {answer.status_code} {answer.error or ''}")
        self.decidable: list[tuple[str, str]] = []

    # ------------------------------------------------------------------ the list
    def _inbox(self, query: str = "", name: str = "inbox") -> list[tuple[str, str]]:
        """(task id, business key) of the listed tasks that carry a real declaration; the CSRF token."""
        with self.client.get(f"/inbox{query}", name=name, catch_response=True) as page:
            if page.status_code != 200 or 'name="q"' not in page.text:  # the list, with tasks or without
                page.failure(f"inbox answered {page.status_code} {page.error or ''}")
                return []
            self.csrf = CSRF.search(page.text).group(1)
            return [(task_id, key) for task_id, key in ROW.findall(page.text) if not key.startswith("BG")]

    # ------------------------------------------------------------------ the sessions
    @task(8)
    def decide_one(self) -> None:
        rows = self._inbox()
        if not rows:
            return
        task_id, key = rows[0]
        self._think(2, 5)
        with self.client.get(f"/tasks/{task_id}", name="open task", catch_response=True) as page:
            if page.status_code != 200 or key not in page.text:
                page.failure(f"task page answered {page.status_code} {page.error or ''}")
                return
            token = CSRF.search(page.text).group(1)
            case = CASE.search(page.text)
        self._think(8, 25)  # reads the declaration and the 校验 findings
        if case and random.random() < 0.4:
            self.client.get(f"/cases/{case.group(1)}", name="view case")
            self._think(3, 8)
        form = {"decision": "approve", "conclusion": "材料齐全，工种年限核对无误，同意。", "csrf_token": token}
        with self.client.post(f"/tasks/{task_id}", name="decide", allow_redirects=False, catch_response=True,
                              data=form) as answer:
            if answer.status_code != 302:
                answer.failure(f"decision answered {answer.status_code} {answer.error or ''}")

    @task(1)
    def decide_batch(self) -> None:
        rows = self._inbox("?per_page=50", name="inbox (50 per page)")
        chosen = [task_id for task_id, _key in rows[:5]]
        if not chosen:
            return
        self._think(5, 15)  # ticks the rows after looking them over
        with self.client.post("/inbox/batch", name="batch decide", catch_response=True, data={
                "task_ids": chosen, "decision": "approve", "conclusion": "批量审核通过。", "csrf_token": self.csrf,
                "back": "/inbox"}) as answer:
            if answer.status_code != 200 or "alert-success" not in answer.text:  # every ticked task decided
                answer.failure(f"batch decision answered {answer.status_code} {answer.error or ''}")

    @task(2)
    def search(self) -> None:
        term = random.choice(["BG", "负载企业", "SC", "2026", "企业"]) + str(random.randint(0, 99))
        self._inbox(f"?q={term}", name="search")

    @task(1)
    def browse(self) -> None:
        self._inbox(f"?sort=due_at&order=desc&page={random.randint(2, 5)}", name="inbox (sorted, page 2-5)")

    @staticmethod
    def _think(low: float, high: float) -> None:
        gevent.sleep(random.uniform(low, high) * SCALE)
