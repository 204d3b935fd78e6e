"""Users, roles held per region (属地), password hashing, sign-in and the sessions a user holds."""
from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from engine.actors import Actor, region_condition
from engine.db import Base, utcnow
from engine.errors import Forbidden, InvalidData, NotFound, Unauthenticated
from engine.regions import REGION_CODE, parent_codes
from services.platform.organisations import Organisation, OrganisationPost
from services.platform.passwords import check_password

# The platform's roles: the lane roles every system's steps use, and the roles of the platform's own
# pages. A process module adds its own (``ProcessModule.roles``) at start-up, in place.
ROLES: dict[str, str] = {
    "reviewer": "审核人员",
    "rechecker": "复核人员",
    "acceptor": "受理人员",
    "approver": "审批人员",
    "clerk": "经办人员",
    "leader": "领导",
    "supervisor": "督办人员",
    "designer": "流程设计人员",
    "admin": "系统管理员",
}
APPLICANT_ROLES: set[str] = set()  # the roles of applicants (enterprises, petitioners …), from the modules
# Who applicants speak for (an enterprise …): per module, the region of a party code, None when the
# code is not one of its parties (``ProcessModule.party_region``).
PARTY_REGIONS: dict[str, Callable[[Session, str], str | None]] = {}
MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
# One answer for every refused sign-in, whatever the reason: it must not tell whether the account exists.
SIGN_IN_REFUSED = f"用户名或密码错误（连续输错 {MAX_FAILED_LOGINS} 次，账号将锁定 {LOCK_MINUTES} 分钟）"
_hasher = PasswordHasher()


class Region(Base):
    __tablename__ = "region"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(20))  # ministry / province / city / county


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    enterprise_code: Mapped[str | None] = mapped_column(String(30), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)

    grants: Mapped[list[RoleGrant]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    posts: Mapped[list[OrganisationPost]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class RoleGrant(Base):
    __tablename__ = "role_grant"
    __table_args__ = (UniqueConstraint("user_id", "role", "region_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(50))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))


class AuthSession(Base):
    """One sign-in: a page session (its id in the cookie) or an API bearer token. Only the SHA-256
    of the random secret is stored; deleting the row ends the session at once."""

    __tablename__ = "auth_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # services.platform.sessions.PAGE / API
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)  # the earlier of the absolute and the idle limit
    client_ip: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")


def end_sessions(session: Session, user_id: int, keep: int | None = None) -> None:
    """Sign the user out everywhere — every page session and API token — except session ``keep``."""
    condition = AuthSession.user_id == user_id
    if keep is not None:
        condition &= AuthSession.id != keep
    session.execute(delete(AuthSession).where(condition))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@functools.cache
def _dummy_hash() -> str:
    """A hash of nothing anyone knows, made with the current parameters: an unknown username is
    verified against it so that it costs as long as a real account's wrong password."""
    return hash_password(secrets.token_urlsafe(16))


def warm_up() -> None:
    """Make the dummy hash at start-up, so that the first unknown username is not slower than the next."""
    _dummy_hash()


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def is_applicant(actor: Actor) -> bool:
    """An applicant's account: it acts for a party (an enterprise), or holds applicant roles only (a
    petitioner): the pages offer it 我的办件 and its module's applicant screens, not an inbox."""
    return actor.party is not None or (bool(actor.roles) and actor.roles <= APPLICANT_ROLES)


def actor_for(user: User) -> Actor:
    return Actor(user.username, frozenset((g.role, g.region_code) for g in user.grants), user.enterprise_code,
                 frozenset((p.post, p.organisation_id) for p in user.posts))


def create_user(session: Session, username: str, password: str, region_code: str, roles: list[str],
                display_name: str = "", enterprise_code: str | None = None, enforce_policy: bool = True) -> User:
    """A new account. Its password must meet the policy (services.platform.passwords) unless ``enforce_policy``
    is off — only for the demo data, whose users share the published password ``demo``."""
    if enforce_policy:
        check_password(password, username, "password")
    if not REGION_CODE.match(region_code):
        raise InvalidData("区划代码应为 6 位数字", fields={"region_code": ["区划代码应为 6 位数字"]})
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise InvalidData("未知角色：%(roles)s" % dict(roles=", ".join(unknown)),
                          fields={"roles": ["未知角色：%(roles)s" % dict(roles=", ".join(unknown))]})
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise InvalidData("用户名 %(username)s 已存在" % dict(username=username),
                          fields={"username": ["用户名 %(username)s 已存在" % dict(username=username)]})
    user = User(username=username, display_name=display_name or username, password_hash=hash_password(password),
                region_code=region_code, enterprise_code=enterprise_code,
                grants=[RoleGrant(role=r, region_code=region_code) for r in roles])
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User:
    """Check a password; lock the account for a while after repeated failures.

    Every refusal — unknown user, disabled or locked account, wrong password — raises the same
    message after one argon2 verification, so neither the answer nor its time tells which it was."""
    user = session.scalars(select(User).where(User.username == username)).first()
    valid = _verify(user.password_hash if user is not None else _dummy_hash(), password)
    now = utcnow()
    if user is None or not user.active or (user.locked_until is not None and user.locked_until > now):
        raise Unauthenticated(SIGN_IN_REFUSED)
    if not valid:
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + timedelta(minutes=LOCK_MINUTES)
            user.failed_logins = 0
        raise Unauthenticated(SIGN_IN_REFUSED)
    user.failed_logins = 0
    user.locked_until = None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def get_user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None or not user.active:
        raise NotFound("用户 %(username)s 不存在" % dict(username=username))
    return user


# ---------------------------------------------------------------------- own password and user administration
def change_password(session: Session, user: User, old_password: str, new_password: str,
                    keep_session: int | None = None) -> None:
    """Change one's own password; every other session and token of the user ends (``keep_session``,
    the one asking, goes on — or none does and the caller starts a fresh one)."""
    if not _verify(user.password_hash, old_password):
        raise InvalidData("原密码不正确", fields={"old_password": ["原密码不正确"]})
    check_password(new_password, user.username)
    user.password_hash = hash_password(new_password)
    end_sessions(session, user.id, keep=keep_session)


def list_regions(session: Session) -> list[Region]:
    return list(session.scalars(select(Region).order_by(Region.code)))


def _require_admin_for(admin: Actor, region_code: str) -> None:
    if not admin.holds("admin", region_code):
        raise Forbidden("您不是区划 %(region)s 的系统管理员" % dict(region=region_code))


def list_users(session: Session, admin: Actor) -> list[User]:
    """Users whose home region lies in a region the admin administers."""
    regions = [region for role, region in admin.grants if role == "admin"]
    if not regions:
        raise Forbidden("只有系统管理员可以管理用户")
    return list(session.scalars(select(User).where(region_condition(User.region_code, regions))
                                .order_by(User.region_code, User.username)))


def get_managed_user(session: Session, admin: Actor, user_id: int) -> User:
    user = session.get(User, user_id)
    if not admin.has_role("admin"):
        raise Forbidden("只有系统管理员可以管理用户")
    if user is None or not admin.holds("admin", user.region_code):
        raise NotFound("用户不存在或不在您的管辖范围内")
    return user


def _require_whole_account(admin: Actor, user: User) -> None:
    """What changes the whole account — its password, whether it may sign in — changes every role it
    holds: only an admin of every region where it holds one may do it (else a Beijing admin who
    resets the password of a Beijing-homed user with Tianjin grants signs in with Tianjin's powers)."""
    held = {g.region_code for g in user.grants} | set(regions_of_posts(user))
    foreign = sorted(region for region in held if not admin.holds("admin", region))
    if foreign:
        raise Forbidden("该用户在您管辖范围以外的区划（%(regions)s）也有授权，只能由那里的系统管理员处理"
                        % dict(regions="、".join(foreign)))


def _check_enterprise_binding(session: Session, admin: Actor, enterprise_code: str, roles: list[str]) -> None:
    """An account bound to an enterprise is that enterprise's applicant (it reads its batches and
    declares in its name; its portal password is reset by the enterprise's clerks): the enterprise
    must exist and lie within the admin's regions, and the account holds applicant roles only."""
    region = next((found for lookup in PARTY_REGIONS.values() if (found := lookup(session, enterprise_code))), None)
    if region is None:
        raise InvalidData("单位 %(code)s 不存在" % dict(code=enterprise_code),
                          fields={"enterprise_code": ["单位不存在"]})
    if not admin.holds("admin", region):
        raise InvalidData("单位 %(code)s 不在您管辖的区划内" % dict(code=enterprise_code),
                          fields={"enterprise_code": ["单位 %(code)s 不在您管辖的区划内" % dict(code=enterprise_code)]})
    staff = sorted(set(roles) - APPLICANT_ROLES)
    if staff:
        named = ", ".join(ROLES.get(r, r) for r in staff)
        raise InvalidData("绑定单位的账号只能授予申报单位的角色，不能授予 %(roles)s" % dict(roles=named), fields={
            "roles": ["绑定单位的账号只能授予申报单位的角色，不能授予 %(roles)s" % dict(roles=named)]})


def admin_create_user(session: Session, admin: Actor, username: str, password: str, region_code: str,
                      roles: list[str], display_name: str = "", enterprise_code: str | None = None) -> User:
    if not admin.has_role("admin"):
        raise Forbidden("只有系统管理员可以管理用户")
    if session.get(Region, region_code) is None:
        raise InvalidData("区划不存在", fields={"region_code": ["区划不存在"]})
    _require_admin_for(admin, region_code)
    if enterprise_code:
        _check_enterprise_binding(session, admin, enterprise_code, roles)
    return create_user(session, username, password, region_code, roles, display_name, enterprise_code or None)


def grant_role(session: Session, admin: Actor, user_id: int, role: str, region_code: str) -> RoleGrant:
    user = get_managed_user(session, admin, user_id)
    if role not in ROLES:
        raise InvalidData("未知角色：%(roles)s" % dict(roles=role),
                          fields={"role": ["未知角色：%(roles)s" % dict(roles=role)]})
    if session.get(Region, region_code) is None:
        raise InvalidData("区划不存在", fields={"region_code": ["区划不存在"]})
    _require_admin_for(admin, region_code)
    if user.enterprise_code and role not in APPLICANT_ROLES:
        raise InvalidData("绑定单位的账号只能授予申报单位的角色，不能授予 %(roles)s" % dict(roles=ROLES[role]), fields={
            "role": ["绑定单位的账号只能授予申报单位的角色，不能授予 %(roles)s" % dict(roles=ROLES[role])]})
    existing = next((g for g in user.grants if g.role == role and g.region_code == region_code), None)
    if existing is not None:
        return existing
    grant = RoleGrant(role=role, region_code=region_code)
    user.grants.append(grant)
    session.flush()
    return grant


def revoke_role(session: Session, admin: Actor, user_id: int, grant_id: int) -> None:
    user = get_managed_user(session, admin, user_id)
    grant = next((g for g in user.grants if g.id == grant_id), None)
    if grant is None:
        raise NotFound("授权不存在")
    _require_admin_for(admin, grant.region_code)
    user.grants.remove(grant)
    end_sessions(session, user.id)  # a removed role must not live on in an open session or token


def regions_of_posts(user: User) -> list[str]:
    """The regions of the organisations where the user holds posts."""
    session = Session.object_session(user)
    ids = {p.organisation_id for p in user.posts}
    if session is None or not ids:
        return []
    return list(session.scalars(select(Organisation.region_code).where(Organisation.id.in_(ids))))


def grant_post(session: Session, admin: Actor, user_id: int, organisation_id: int, post: str) -> OrganisationPost:
    """A post at an organisation (a lane role held there): by an admin of the organisation's region, to a
    staff account (an account bound to an enterprise holds applicant roles only)."""
    user = get_managed_user(session, admin, user_id)
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise InvalidData("机构不存在", fields={"organisation_id": ["机构不存在"]})
    _require_admin_for(admin, organisation.region_code)
    if post not in ROLES or post in APPLICANT_ROLES:
        raise InvalidData("不能设置岗位：%(post)s" % dict(post=ROLES.get(post, post)),
                          fields={"post": ["请选择工作人员的岗位"]})
    if user.enterprise_code:
        raise InvalidData("绑定单位的账号不能设置机构岗位", fields={"post": ["绑定单位的账号不能设置机构岗位"]})
    existing = next((p for p in user.posts if p.organisation_id == organisation_id and p.post == post), None)
    if existing is not None:
        return existing
    held = OrganisationPost(organisation_id=organisation_id, post=post)
    user.posts.append(held)
    session.flush()
    return held


def revoke_post(session: Session, admin: Actor, user_id: int, post_id: int) -> None:
    user = get_managed_user(session, admin, user_id)
    held = next((p for p in user.posts if p.id == post_id), None)
    organisation = session.get(Organisation, held.organisation_id) if held is not None else None
    if held is None or organisation is None:
        raise NotFound("岗位不存在")
    _require_admin_for(admin, organisation.region_code)
    user.posts.remove(held)
    end_sessions(session, user.id)  # as for a role: a removed post must not live on in an open session


def set_active(session: Session, admin: Actor, user_id: int, active: bool) -> User:
    user = get_managed_user(session, admin, user_id)
    _require_whole_account(admin, user)
    if not active and user.username == admin.username:
        raise InvalidData("不能停用自己的账号")
    user.active = active
    if not active:
        end_sessions(session, user.id)
    return user


def reset_password(session: Session, admin: Actor, user_id: int, new_password: str) -> User:
    user = get_managed_user(session, admin, user_id)
    _require_whole_account(admin, user)
    check_password(new_password, user.username)
    user.password_hash = hash_password(new_password)
    user.failed_logins, user.locked_until = 0, None
    end_sessions(session, user.id)
    return user


def colleagues_for(session: Session, role: str, region_code: str, exclude: str) -> list[User]:
    """Active users holding ``role`` for ``region_code`` or a region above it (delegation targets)."""
    query = (select(User).join(RoleGrant).where(RoleGrant.role == role,
                                                RoleGrant.region_code.in_(parent_codes(region_code)),
                                                User.active.is_(True), User.username != exclude)
             .order_by(User.username).distinct())
    return list(session.scalars(query))
