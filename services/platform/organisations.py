"""Organisations (机构) and the posts (岗位) people hold there.

Region scoping answers "which cases of this place may I handle"; some work moves between *offices*
instead: a 信访 item goes from the provincial 信访局 to a city's, to a county's or to a directly
subordinate department (直属单位) of the same government — two offices of one region that must not see
each other's work. An organisation has a region (the place it serves) and a parent in the routing
tree: the organisation that sends work to it (a county bureau's parent is its city's bureau; a city's
直属单位 hang under the city's bureau as well). Lower and directly subordinate organisations are then
simply the children.

A post is a lane role held at one organisation (``xf_receiver`` 收件岗 at 济南市信访局). A case that
runs at an organisation (``ProcessInstance.organisation_id``) offers its steps to the holders of the
lane's post there — not to holders of that role for the region (``engine.actors.Actor.takes``), and
it may move to another organisation (``WorkflowEngine.move_to_organisation``). Other systems use the
same model: units with sub-units, schools with faculties.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.actors import Actor
from engine.db import Base, utcnow
from engine.errors import Forbidden, InvalidData, NotFound
from engine.regions import REGION_CODE


class Organisation(Base):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # stable, for data files and imports
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str] = mapped_column(String(50), default="")  # 机构简称, e.g. in document numbers
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # what the module calls it: xf_bureau, department …
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), default=None, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OrganisationPost(Base):
    __tablename__ = "organisation_post"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id", "post"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    post: Mapped[str] = mapped_column(String(50))


def create(session: Session, code: str, name: str, region_code: str, kind: str, *,
           parent: Organisation | None = None, short_name: str = "") -> Organisation:
    if not REGION_CODE.match(region_code):
        raise InvalidData("区划代码应为 6 位数字", fields={"region_code": ["区划代码应为 6 位数字"]})
    if session.scalar(select(Organisation.id).where(Organisation.code == code)) is not None:
        raise InvalidData("机构代码 %(code)s 已存在" % dict(code=code),
                          fields={"code": ["机构代码 %(code)s 已存在" % dict(code=code)]})
    organisation = Organisation(code=code, name=name, short_name=short_name or name, region_code=region_code,
                                kind=kind, parent_id=parent.id if parent is not None else None)
    session.add(organisation)
    session.flush()
    return organisation


def get(session: Session, organisation_id: int) -> Organisation:
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("机构不存在")
    return organisation


def by_code(session: Session, code: str) -> Organisation | None:
    return session.scalar(select(Organisation).where(Organisation.code == code))


def children(session: Session, organisation_id: int) -> list[Organisation]:
    """The lower and directly subordinate organisations (下级或直属单位), by region then name."""
    return list(session.scalars(select(Organisation).where(Organisation.parent_id == organisation_id)
                                .order_by(Organisation.region_code, Organisation.name)))


def of_kind(session: Session, kind: str, region_codes: list[str] | None = None) -> list[Organisation]:
    query = select(Organisation).where(Organisation.kind == kind)
    if region_codes is not None:
        query = query.where(Organisation.region_code.in_(region_codes))
    return list(session.scalars(query.order_by(Organisation.region_code, Organisation.name)))


def add_post(session: Session, user_id: int, organisation: Organisation, post: str) -> OrganisationPost:
    """Give a person a post at an organisation (the demo data and the admin's page)."""
    from services.platform.identity import ROLES

    if post not in ROLES:
        raise InvalidData("未知岗位：%(post)s" % dict(post=post),
                          fields={"post": ["未知岗位：%(post)s" % dict(post=post)]})
    held = session.scalar(select(OrganisationPost).where(
        OrganisationPost.user_id == user_id, OrganisationPost.organisation_id == organisation.id,
        OrganisationPost.post == post))
    if held is not None:
        return held
    row = OrganisationPost(user_id=user_id, organisation_id=organisation.id, post=post)
    session.add(row)
    session.flush()
    return row


def holders(session: Session, organisation_id: int, post: str) -> list[tuple[str, str]]:
    """(username, display name) of the active holders of a post at an organisation."""
    from services.platform.identity import User

    rows = session.execute(select(User.username, User.display_name).join(
        OrganisationPost, OrganisationPost.user_id == User.id).where(
        OrganisationPost.organisation_id == organisation_id, OrganisationPost.post == post,
        User.active.is_(True)).order_by(User.username))
    return [(row[0], row[1]) for row in rows]


def works_at(actor: Actor, organisation_id: int, posts: tuple[str, ...] | None = None) -> bool:
    """Holds a post (one of ``posts``, or any) at the organisation."""
    return any(org == organisation_id and (posts is None or post in posts) for post, org in actor.posts)


def require_post(actor: Actor, organisation_id: int, posts: tuple[str, ...], message: str) -> None:
    if not works_at(actor, organisation_id, posts):
        raise Forbidden(message)
