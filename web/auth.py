"""Bearer-token authentication for the JSON API: the token is the secret of an API session row."""
from __future__ import annotations

from functools import wraps

from flask import g, request

from engine.actors import Actor
from engine.errors import Unauthenticated
from services.platform.identity import actor_for
from services.platform.sessions import API
from web.context import resolve_session


def current_actor() -> Actor:
    return g.actor


def bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    return header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""


def api_login_required(view):
    """Resolve the token in a short read of its own (``resolve_session``), so that the route's unit
    of work starts fresh."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        token = bearer_token()
        signed_in = None
        if token:
            signed_in = resolve_session(token, API)
        if signed_in is None:
            raise Unauthenticated("请先登录（缺少、无效或已失效的访问令牌）")
        g.user, g.session_id = signed_in.user, signed_in.session_id
        g.actor = actor_for(signed_in.user)
        return view(*args, **kwargs)

    return wrapper
