"""User administration: accounts and the roles they hold per region (属地)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from engine.errors import InvalidData
from services.platform.identity import (
    APPLICANT_ROLES,
    ROLES,
    admin_create_user,
    get_managed_user,
    grant_post,
    grant_role,
    list_regions,
    list_users,
    reset_password,
    revoke_post,
    revoke_role,
    set_active,
)
from services.platform.organisations import Organisation
from web.context import uow
from web.pages import pages
from web.pages.params import GrantForm, ResetPasswordForm, UserForm, form_lists, load
from web.pages.session import login_required, page_actor


def render_users(values=None, errors: dict | None = None, status: int = 200):
    session = uow().session
    users = list_users(session, page_actor())
    return render_template("admin_users.html", users=users, roles=ROLES, regions=list_regions(session),
                           values=values or {}, selected_roles=values.getlist("roles") if values else [],
                           errors=errors or {}), status


def render_user(user_id: int, errors: dict | None = None, status: int = 200):
    session = uow().session
    user = get_managed_user(session, page_actor(), user_id)
    places = {o.id: o for o in session.scalars(select(Organisation)
                                               .order_by(Organisation.region_code, Organisation.name))}
    return render_template("admin_user.html", user=user, roles=ROLES, regions=list_regions(session),
                           organisations=places, posts=[r for r in ROLES if r not in APPLICANT_ROLES],
                           errors=errors or {}), status


@pages.get("/admin/users")
@login_required
def admin_users():
    return render_users()


@pages.post("/admin/users")
@login_required
def admin_create():
    data, errors = load(UserForm(), form_lists(request.form, "roles"))
    if errors:
        return render_users(request.form, errors, 400)
    work = uow()
    try:
        user = admin_create_user(work.session, page_actor(), data["username"], data["password"], data["region_code"],
                                 data["roles"], data["display_name"] or "", data["enterprise_code"])
    except InvalidData as error:
        work.session.rollback()
        return render_users(request.form, error.fields or {"_form": [error.message]}, 400)
    work.commit()
    flash(_("已创建用户 %(name)s", name=user.username), "success")
    return redirect(url_for("pages.admin_user", user_id=user.id))


@pages.get("/admin/users/<int:user_id>")
@login_required
def admin_user(user_id: int):
    return render_user(user_id)


@pages.post("/admin/users/<int:user_id>/grants")
@login_required
def admin_grant(user_id: int):
    data, errors = load(GrantForm(), request.form)
    work = uow()
    try:
        if errors:
            raise InvalidData(_("请选择角色和区划"), fields=errors)
        grant_role(work.session, page_actor(), user_id, data["role"], data["region_code"])
    except InvalidData as error:
        work.session.rollback()
        return render_user(user_id, error.fields or {"_form": [error.message]}, 400)
    work.commit()
    flash(_("已授权"), "success")
    return redirect(url_for("pages.admin_user", user_id=user_id))


@pages.post("/admin/users/<int:user_id>/grants/<int:grant_id>/revoke")
@login_required
def admin_revoke(user_id: int, grant_id: int):
    work = uow()
    revoke_role(work.session, page_actor(), user_id, grant_id)
    work.commit()
    flash(_("已收回授权"), "success")
    return redirect(url_for("pages.admin_user", user_id=user_id))


@pages.post("/admin/users/<int:user_id>/posts")
@login_required
def admin_grant_post(user_id: int):
    """A post at an organisation (机构岗位)."""
    work = uow()
    try:
        grant_post(work.session, page_actor(), user_id, request.form.get("organisation_id", type=int) or 0,
                   request.form.get("post", ""))
    except InvalidData as error:
        work.session.rollback()
        return render_user(user_id, error.fields or {"_form": [error.message]}, 400)
    work.commit()
    flash(_("已设置岗位"), "success")
    return redirect(url_for("pages.admin_user", user_id=user_id))


@pages.post("/admin/users/<int:user_id>/posts/<int:post_id>/revoke")
@login_required
def admin_revoke_post(user_id: int, post_id: int):
    work = uow()
    revoke_post(work.session, page_actor(), user_id, post_id)
    work.commit()
    flash(_("已取消岗位"), "success")
    return redirect(url_for("pages.admin_user", user_id=user_id))


@pages.post("/admin/users/<int:user_id>/active")
@login_required
def admin_active(user_id: int):
    work = uow()
    user = set_active(work.session, page_actor(), user_id, request.form.get("active") == "true")
    work.commit()
    flash(_("账号已启用") if user.active else _("账号已停用"), "success")
    return redirect(url_for("pages.admin_user", user_id=user_id))


@pages.post("/admin/users/<int:user_id>/password")
@login_required
def admin_reset_password(user_id: int):
    data, errors = load(ResetPasswordForm(), request.form)
    work = uow()
    try:
        if errors:
            raise InvalidData(_("请填写新密码"), fields=errors)
        reset_password(work.session, page_actor(), user_id, data["new_password"])
    except InvalidData as error:
        work.session.rollback()
        return render_user(user_id, error.fields or {"_form": [error.message]}, 400)
    work.commit()
    flash(_("密码已重置，该用户的会话已全部失效"), "success")
    return redirect(url_for("pages.admin_user", user_id=user_id))
