"""Sign-in, sign-out, change of password, where one is signed in, choice of language."""
from __future__ import annotations

from functools import partial

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.errors import InvalidData, Unauthenticated
from services.platform.identity import User, authenticate, change_password, end_sessions
from services.platform.sessions import end_own_session, list_sessions
from web.context import uow
from web.pages import pages
from web.pages.i18n import choose_language
from web.pages.params import PasswordForm, SignInForm, load
from web.pages.session import load_user, login_required, safe_next, sign_in, sign_out
from web.ratelimit import RateLimited, count_signin_attempt


@pages.route("/signin", methods=["GET", "POST"])
def signin():
    if request.method == "GET":
        if load_user() is not None:
            return redirect(safe_next(request.args.get("next")))
        return render_template("signin.html", next=request.args.get("next", ""), errors={}, username="")
    data, errors = load(SignInForm(), request.form)
    if errors:
        return render_template("signin.html", next=data.get("next") or "", errors=errors,
                               username=data.get("username", "")), 400
    refused = partial(render_template, "signin.html", next=data.get("next") or "", username=data["username"])
    try:
        count_signin_attempt(data["username"])
    except RateLimited as limited:
        return refused(errors={"_form": [limited.message]}), 429, {"Retry-After": str(limited.retry_after)}
    work = uow()
    try:
        user = authenticate(work.session, data["username"], data["password"])
    except Unauthenticated as error:
        work.commit()  # keep the failed-attempt count that locks the account
        return refused(errors={"_form": [error.message]}), 401
    sign_in(work.session, user)
    work.commit()
    return redirect(safe_next(data.get("next")))


@pages.post("/signout")
def signout():
    work = uow()
    sign_out(work.session)
    work.commit()
    flash(_("您已安全退出"), "info")
    return redirect(url_for("pages.signin"))


@pages.route("/password", methods=["GET", "POST"])
@login_required
def password():
    if request.method == "GET":
        return render_template("password.html", errors={})
    data, errors = load(PasswordForm(), request.form)
    if not errors and data["new_password"] != data["confirm"]:
        errors = {"confirm": [_("两次输入的新密码不一致")]}
    if errors:
        return render_template("password.html", errors=errors), 400
    try:
        count_signin_attempt(g.user.username)  # the old password is guessed like a sign-in's: same limit
    except RateLimited as limited:
        return render_template("password.html", errors={"_form": [limited.message]}), 429, {
            "Retry-After": str(limited.retry_after)}
    work = uow()
    user = work.session.get(User, g.user.id)
    try:
        change_password(work.session, user, data["old_password"], data["new_password"])
    except InvalidData as error:
        return render_template("password.html", errors=error.fields or {"_form": [error.message]}), 400
    sign_in(work.session, user)  # every session of the user ended; this browser goes on with a new one
    work.commit()
    flash(_("密码已修改"), "success")
    return redirect(url_for("pages.home"))


@pages.get("/sessions")
@login_required
def sessions_page():
    return render_template("sessions.html", rows=list_sessions(uow().session, g.user.id), current=g.session_id)


@pages.post("/sessions/<int:session_id>/end")
@login_required
def end_session(session_id: int):
    work = uow()
    end_own_session(work.session, g.user.id, session_id)
    work.commit()
    flash(_("已退出该会话"), "success")
    return redirect(url_for("pages.sessions_page"))


@pages.post("/sessions/end-others")
@login_required
def end_other_sessions():
    work = uow()
    end_sessions(work.session, g.user.id, keep=g.session_id)
    work.commit()
    flash(_("已退出其他所有会话"), "success")
    return redirect(url_for("pages.sessions_page"))


@pages.get("/lang/<lang>")
def language(lang: str):
    return choose_language(lang, request.args.get("next", ""))
