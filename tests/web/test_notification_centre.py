"""通知: the unread badge in every page's header, the list (newest first, paged, unread highlighted),
标为已读 and 全部标为已读 — each user sees and changes only their own notifications."""
from __future__ import annotations

import re

from sqlalchemy import select

from services.platform.notifications import Notification

BADGE = re.compile(r'class="badge"[^>]*>(\d+)<')


def add_notifications(runtime, recipient: str, count: int, **extra) -> list[int]:
    with runtime.unit_of_work() as uow:
        rows = [Notification(recipient=recipient, kind="reminder_due_soon", subject=f"{recipient} 提醒 {n}",
                             body=f"正文 {n}", **extra) for n in range(1, count + 1)]
        uow.session.add_all(rows)
        uow.commit()
        return [r.id for r in rows]


def badge(page) -> int | None:
    found = BADGE.search(page.get_data(as_text=True))
    return int(found.group(1)) if found else None


def unread_of(runtime, username: str) -> int:
    with runtime.unit_of_work() as uow:
        return len(list(uow.session.scalars(select(Notification.id).where(
            Notification.recipient == username, Notification.read_at.is_(None)))))


def test_badge_counts_unread_notifications_on_every_page(runtime, browser):
    add_notifications(runtime, "reviewer", 3)
    add_notifications(runtime, "tj_reviewer", 5)
    reviewer = browser("reviewer")
    assert badge(reviewer.get("/")) == 3
    assert badge(reviewer.get("/inbox")) == 3
    assert badge(reviewer.get("/cases/999999")) == 3  # the error page has the header too
    assert badge(browser("designer").get("/")) is None  # nothing unread: no badge


def test_list_is_newest_first_links_to_the_case_and_highlights_unread(runtime, browser):
    add_notifications(runtime, "reviewer", 2, instance_id=4242)
    add_notifications(runtime, "tj_reviewer", 1)
    page = browser("reviewer").get("/notifications").get_data(as_text=True)
    assert page.index("reviewer 提醒 2") < page.index("reviewer 提醒 1")
    assert "tj_reviewer 提醒" not in page
    assert page.count('class="unread"') == 2
    assert 'href="/cases/4242"' in page


def test_mark_one_read_then_all(runtime, browser):
    first, second, third = add_notifications(runtime, "reviewer", 3)
    others = add_notifications(runtime, "tj_reviewer", 1)
    reviewer = browser("reviewer")
    reviewer.get("/notifications")
    response = reviewer.post(f"/notifications/{second}/read", {"back": "/notifications"})
    assert response.status_code == 302 and response.headers["Location"] == "/notifications"
    page = reviewer.get("/notifications")
    assert badge(page) == 2
    assert page.get_data(as_text=True).count('class="unread"') == 2

    assert reviewer.post(f"/notifications/{others[0]}/read").status_code == 404  # someone else's
    assert unread_of(runtime, "tj_reviewer") == 1

    done = reviewer.post("/notifications/read-all", follow_redirects=True)
    assert "已将 2 条通知标为已读" in done.get_data(as_text=True)
    assert badge(done) is None and unread_of(runtime, "reviewer") == 0
    assert unread_of(runtime, "tj_reviewer") == 1


def test_marking_without_the_csrf_token_changes_nothing(runtime, browser):
    add_notifications(runtime, "reviewer", 2)
    reviewer = browser("reviewer")
    response = reviewer.client.post("/notifications/read-all")
    assert response.status_code == 400 and "页面已过期" in response.get_data(as_text=True)
    assert unread_of(runtime, "reviewer") == 2


def test_list_is_paged_and_filters_unread(runtime, browser):
    ids = add_notifications(runtime, "reviewer", 25)
    reviewer = browser("reviewer")
    reviewer.post(f"/notifications/{ids[0]}/read")
    first = reviewer.get("/notifications").get_data(as_text=True)
    assert "reviewer 提醒 25" in first and "reviewer 提醒 5<" not in first and "第 1 / 2 页" in first
    second = reviewer.get("/notifications?page=2").get_data(as_text=True)
    assert "reviewer 提醒 5<" in second and "reviewer 提醒 25" not in second
    unread = reviewer.get("/notifications?unread=true&page=2").get_data(as_text=True)
    assert "reviewer 提醒 2<" in unread and "reviewer 提醒 1<" not in unread
