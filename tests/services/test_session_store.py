"""services.platform.sessions: lifetimes, the one-query lookup, and the bounded purge of expired rows."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, func, insert, select

from engine.db import utcnow
from services.platform import sessions
from services.platform.identity import AuthSession, User, actor_for
from services.platform.sessions import PAGE, PURGE_BATCH, Lifetime, SessionStore
from tests.conftest import account

STORE = SessionStore({PAGE: Lifetime(timedelta(hours=8), timedelta(hours=2))})


def the_user(uow, username: str) -> User:
    return uow.session.scalar(select(User).where(User.username == username))


@pytest.fixture
def clock(monkeypatch):
    """services.platform.sessions' clock, set by the test; it starts ten days back so that the rows made here
    are long expired for the rest of the suite."""
    now = [utcnow() - timedelta(days=10)]
    monkeypatch.setattr(sessions, "utcnow", lambda: now[0])
    return now


def test_a_page_session_ends_after_two_idle_hours_or_eight_hours_in_all(runtime, clock):
    account(runtime, "clock_user")
    start = clock[0]

    def started() -> str:
        clock[0] = start
        with runtime.unit_of_work() as uow:
            secret = STORE.start(uow.session, the_user(uow, "clock_user"), PAGE)
            uow.commit()
        return secret

    def valid_after(secret: str, hours: int, minutes: int) -> bool:
        clock[0] = start + timedelta(hours=hours, minutes=minutes)
        with runtime.unit_of_work() as uow:  # what web.context.resolve_session does
            found = STORE.resolve(uow.session, secret, PAGE)
            if found is not None and found.stale:
                STORE.touch(uow.session, found.session_id, PAGE)
            uow.commit()
        return found is not None

    busy = started()
    used = [(1, 58), (3, 56), (5, 54), (7, 52)]  # every 1 h 58 min: never idle for two hours
    assert all(valid_after(busy, hours, minutes) for hours, minutes in used)
    assert not valid_after(busy, 8, 1)  # eight hours after the sign-in, however busy
    idle = started()
    assert valid_after(idle, 1, 58)
    assert not valid_after(idle, 3, 59)  # two hours and a minute since its last request


def test_a_request_finds_its_session_user_and_roles_in_one_query(runtime):
    account(runtime, "one_query_user")
    with runtime.unit_of_work() as uow:
        secret = STORE.start(uow.session, the_user(uow, "one_query_user"), PAGE)
        uow.commit()
    selects: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    event.listen(runtime.db, "before_cursor_execute", record)
    try:
        with runtime.unit_of_work() as uow:
            found = STORE.resolve(uow.session, secret, PAGE)
            uow.commit()
        assert actor_for(found.user).has_role("reviewer")  # the grants came with it, detached now
    finally:
        event.remove(runtime.db, "before_cursor_execute", record)
    assert len(selects) == 1 and "auth_session" in selects[0] and "role_grant" in selects[0]


def test_each_sign_in_purges_a_bounded_batch_of_expired_sessions(runtime):
    account(runtime, "purge_user")
    past = utcnow() - timedelta(hours=1)
    with runtime.unit_of_work() as uow:
        user = the_user(uow, "purge_user")
        uow.session.execute(insert(AuthSession), [
            {"token_hash": f"{user.id:08d}-expired-{n:04d}".ljust(64, "0"), "user_id": user.id, "kind": PAGE,
             "created_at": past, "last_seen_at": past, "expires_at": past, "client_ip": "", "user_agent": ""}
            for n in range(PURGE_BATCH + 50)])
        uow.commit()

    def expired() -> int:
        with runtime.unit_of_work() as uow:
            return uow.session.scalar(select(func.count()).select_from(AuthSession)
                                      .where(AuthSession.expires_at <= utcnow()))

    before = expired()
    with runtime.unit_of_work() as uow:
        STORE.start(uow.session, the_user(uow, "purge_user"), PAGE)
        uow.commit()
    assert expired() == before - PURGE_BATCH
