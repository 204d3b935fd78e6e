"""Bearer-token authentication for the JSON API."""
from __future__ import annotations

from functools import wraps

from flask import g, request

from engine.actors import Actor
from engine.errors import EngineError
from services.identity import actor_for
from web.context import runtime, uow


class Unauthenticated(EngineError):
    code = "unauthenticated"


def current_actor() -> Actor:
    return g.actor


def api_login_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        user = runtime().tokens.resolve(uow().session, token) if token else None
        if user is None:
            raise Unauthenticated("请先登录（缺少或无效的访问令牌）")
        g.user = user
        g.actor = actor_for(user)
        return view(*args, **kwargs)

    return wrapper
