"""Rate limits on signing in, per client address and per submitted username, and on 办件查询 by
查询码, per client address.

``POST /signin`` and ``POST /api/auth/token`` count into the same two limits, so an attacker gains
nothing by alternating between them. Counting uses the `limits` package (the engine behind
Flask-Limiter) with a moving window, in this process's memory or — when several processes serve one
address — in Redis (``Settings.ratelimit_storage_url``). Every attempt counts, refused or not, and an
unknown username counts like a real one: a 429 tells nothing about whether an account exists.
"""
from __future__ import annotations

import hashlib
import logging
import math
import time

from flask import current_app, request
from flask_babel import gettext as _
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from services.bootstrap import Settings

log = logging.getLogger(__name__)


class RateLimited(Exception):
    """Too many attempts; ``retry_after`` seconds until the next one is counted again."""

    def __init__(self, retry_after: int, what: str = "signin"):
        super().__init__(retry_after)
        self.retry_after = retry_after
        self.what = what

    @property
    def message(self) -> str:
        minutes = max(1, math.ceil(self.retry_after / 60))
        if self.what == "query_code":
            return _("查询过于频繁，请 %(minutes)s 分钟后再试", minutes=minutes)
        return _("登录尝试过于频繁，请 %(minutes)s 分钟后再试", minutes=minutes)


class SignInLimiter:
    def __init__(self, settings: Settings):
        storage = storage_from_string(settings.ratelimit_storage_url or "memory://", wrap_exceptions=True)
        self._limiter = MovingWindowRateLimiter(storage)
        self._per_ip = parse_many(settings.signin_limit_per_ip)
        self._per_account = parse_many(settings.signin_limit_per_account)
        self._per_ip_lookups = parse_many(settings.query_code_limit_per_ip)

    def count_lookup(self) -> None:
        """Count one 查询码 lookup from this request's address; RateLimited once the limit is exceeded
        (an unreachable storage lets it through, as for sign-in)."""
        try:
            for item in self._per_ip_lookups:
                if not self._limiter.hit(item, "query-code-ip", request.remote_addr or "-"):
                    reset = self._limiter.get_window_stats(item, "query-code-ip", request.remote_addr or "-").reset_time
                    raise RateLimited(max(1, math.ceil(reset - time.time())), "query_code")
        except StorageError:
            log.warning("query-code rate-limit storage unreachable; lookup not counted", exc_info=True)

    def count_attempt(self, username: str) -> None:
        """Count one attempt from this request's address for ``username``; raise RateLimited once a
        limit is exceeded. An unreachable storage is logged and lets the attempt through: the account
        lock still guards each account, and nobody is locked out of the service by a Redis failure."""
        # the username is hashed: bounded keys, and no usernames in the limiter's storage
        account = hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]
        checks: list[tuple[RateLimitItem, str, str]] = [
            *((item, "signin-ip", request.remote_addr or "-") for item in self._per_ip),
            *((item, "signin-account", account) for item in self._per_account)]
        try:
            for item, scope, key in checks:
                if not self._limiter.hit(item, scope, key):
                    reset = self._limiter.get_window_stats(item, scope, key).reset_time
                    raise RateLimited(max(1, math.ceil(reset - time.time())))
        except StorageError:
            log.warning("sign-in rate-limit storage unreachable; attempt not counted", exc_info=True)


def count_query_code_lookup() -> None:
    current_app.extensions["banjian.signin_limiter"].count_lookup()


def count_signin_attempt(username: str) -> None:
    current_app.extensions["banjian.signin_limiter"].count_attempt(username)
