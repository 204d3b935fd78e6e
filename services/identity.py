"""Users, roles held per region (属地), password hashing and API tokens."""
from __future__ import annotations

from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from engine.actors import Actor
from engine.db import Base, utcnow
from engine.errors import Forbidden, InvalidData, NotFound
from engine.regions import REGION_CODE

ROLES: dict[str, str] = {
    "enterprise": "单位经办人",
    "reviewer": "审核人员",
    "rechecker": "复核人员",
    "acceptor": "受理人员",
    "approver": "审批人员",
    "spot_checker": "抽查人员",
    "supervisor": "督办人员",
    "designer": "流程设计人员",
    "admin": "系统管理员",
    "catalogue_admin": "名录管理人员",
    "clerk": "经办人员",
    "leader": "领导",
    "petitioner": "信访人",
}
APPLICANT_ROLES = frozenset({"enterprise", "petitioner"})
MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
TOKEN_MAX_AGE = 12 * 3600
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
    token_generation: Mapped[int] = mapped_column(Integer, default=0)

    grants: Mapped[list[RoleGrant]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class RoleGrant(Base):
    __tablename__ = "role_grant"
    __table_args__ = (UniqueConstraint("user_id", "role", "region_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(50))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def actor_for(user: User) -> Actor:
    return Actor(user.username, frozenset((g.role, g.region_code) for g in user.grants), user.enterprise_code)


def create_user(session: Session, username: str, password: str, region_code: str, roles: list[str],
                display_name: str = "", enterprise_code: str | None = None) -> User:
    if not REGION_CODE.match(region_code):
        raise InvalidData("区划代码应为 6 位数字", fields={"region_code": ["区划代码应为 6 位数字"]})
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise InvalidData(f"未知角色：{', '.join(unknown)}", fields={"roles": [f"未知角色：{', '.join(unknown)}"]})
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise InvalidData(f"用户名 {username} 已存在", fields={"username": [f"用户名 {username} 已存在"]})
    user = User(username=username, display_name=display_name or username, password_hash=hash_password(password),
                region_code=region_code, enterprise_code=enterprise_code,
                grants=[RoleGrant(role=r, region_code=region_code) for r in roles])
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User:
    """Check a password; lock the account for a while after repeated failures."""
    user = session.scalars(select(User).where(User.username == username)).first()
    message = "用户名或密码错误"
    if user is None or not user.active:
        raise Forbidden(message)
    now = utcnow()
    if user.locked_until and user.locked_until > now:
        raise Forbidden(f"登录失败次数过多，账号已锁定，请于 {LOCK_MINUTES} 分钟后再试")
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + timedelta(minutes=LOCK_MINUTES)
            user.failed_logins = 0
        raise Forbidden(message) from None
    user.failed_logins = 0
    user.locked_until = None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def get_user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None or not user.active:
        raise NotFound(f"用户 {username} 不存在")
    return user


class TokenService:
    """Signed bearer tokens: user id + token generation (bumped to revoke all of a user's tokens)."""

    def __init__(self, secret: str):
        self._serializer = URLSafeTimedSerializer(secret, salt="banjian-api-token")

    def issue(self, user: User) -> str:
        return self._serializer.dumps({"u": user.id, "g": user.token_generation})

    def resolve(self, session: Session, token: str) -> User | None:
        try:
            payload = self._serializer.loads(token, max_age=TOKEN_MAX_AGE)
        except (BadSignature, SignatureExpired):
            return None
        user = session.get(User, payload.get("u"))
        if user is None or not user.active or user.token_generation != payload.get("g"):
            return None
        return user
