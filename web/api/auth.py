"""API sign-in: a bearer token for a username and password, its revocation, and one's own password."""
from __future__ import annotations

from flask import g, request

from engine.errors import Unauthenticated
from services.platform.identity import User, authenticate, change_password
from services.platform.sessions import API
from web.api import api, documented
from web.auth import api_login_required, bearer_token
from web.context import runtime, uow
from web.ratelimit import count_signin_attempt
from web.schemas import PasswordChangeRequest, TokenRequest, TokenResponse


@api.post("/auth/token")
@documented("用户名密码换取访问令牌（有效期 12 小时；失败时 401，尝试过于频繁时 429）", request=TokenRequest,
            response=TokenResponse, public=True, answers=(401, 429))
def issue_token():
    body = TokenRequest().load(request.get_json(silent=True) or {})
    count_signin_attempt(body["username"])
    work = uow()
    try:
        user = authenticate(work.session, body["username"], body["password"])
    except Unauthenticated:
        work.commit()  # keep the failed-attempt count that locks the account
        raise
    token = runtime().sessions.start(work.session, user, API, request.remote_addr or "",
                                     request.user_agent.string)
    work.commit()
    return TokenResponse().dump({"token": token, "username": user.username,
                                 "roles": sorted({grant.role for grant in user.grants})})


@api.delete("/auth/token")
@documented("注销当前访问令牌（此后使用该令牌的请求得到 401）", status=204)
@api_login_required
def revoke_token():
    work = uow()
    runtime().sessions.end(work.session, bearer_token())
    work.commit()
    return "", 204


@api.post("/auth/password")
@documented("修改本人密码：其他会话和令牌全部失效，当前令牌继续有效", request=PasswordChangeRequest, status=204)
@api_login_required
def change_own_password():
    body = PasswordChangeRequest().load(request.get_json(silent=True) or {})
    count_signin_attempt(g.user.username)  # the old password is guessed like a sign-in's: same limit
    work = uow()
    user = work.session.get(User, g.user.id)
    change_password(work.session, user, body["old_password"], body["new_password"], keep_session=g.session_id)
    work.commit()
    return "", 204
