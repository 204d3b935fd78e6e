from __future__ import annotations

from flask import request

from engine.errors import Forbidden
from services.identity import authenticate
from web.api import api, documented
from web.context import runtime, uow
from web.schemas import TokenRequest, TokenResponse


@api.post("/auth/token")
@documented("用户名密码换取访问令牌", request=TokenRequest, response=TokenResponse, public=True)
def issue_token():
    body = TokenRequest().load(request.get_json(silent=True) or {})
    work = uow()
    try:
        user = authenticate(work.session, body["username"], body["password"])
    except Forbidden:
        work.commit()  # keep the failed-attempt count that locks the account
        raise
    work.commit()
    return TokenResponse().dump({"token": runtime().tokens.issue(user), "username": user.username,
                                 "roles": sorted({g.role for g in user.grants})})
