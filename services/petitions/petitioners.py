"""用户注册 on the portal (004 §2.2, requirements §B2.1): a 信访人 account, named or anonymous.

A named account with a 居民身份证 number beginning with 37 (Shandong) is checked through the province's
real-name service before it exists (L741–742: 认证通过才允许注册); other numbers and other documents
are not. The service is an adapter (:class:`RealNameCheck`): a deployment plugs in the 公安厅 interface;
the default checks the number's GB 11643 check digit only and is marked so in the README. A failure of
the service is not a failed check: the petitioner is asked to try again later.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from engine.errors import InvalidData
from services.petitions.labels import GENDERS, ID_TYPES
from services.petitions.models import Petitioner
from services.platform import identity
from services.platform.id_number import id_number_problem

PROVINCE = "370000"  # the portal's province: accounts are held there (山东)
CHECKED_PREFIX = "37"
MOBILE = re.compile(r"^1\d{10}$")
NOT_AGREED = "请先阅读并同意注册须知"
NO_ADDRESS = "户口所在地、常用地址、通讯地址至少填写一项"
REAL_NAME_FAILED = "身份证实名认证未通过，不能注册"
REAL_NAME_DOWN = "实名认证服务暂不可用，请稍后再试"


class RealNameUnavailable(Exception):
    """The real-name service did not answer."""


class RealNameCheck(Protocol):
    def __call__(self, name: str, id_number: str) -> bool: ...


def check_digit_only(name: str, id_number: str) -> bool:
    """The offline default: a number is 'verified' when its check digit is right (see the docstring)."""
    return id_number_problem(id_number) is None


@dataclass(frozen=True)
class Registration:
    username: str
    password: str
    phone: str
    agreed: bool
    anonymous: bool = False
    name: str = ""
    gender: str = ""
    id_type: str = ""
    id_number: str = ""
    household_address: str = ""
    usual_address: str = ""
    mail_address: str = ""


def register(session: Session, form: Registration, real_name: RealNameCheck = check_digit_only,
             enforce_policy: bool = True) -> Petitioner:
    problems: dict[str, list[str]] = {}
    if not form.agreed:
        problems["agreed"] = [NOT_AGREED]
    if not MOBILE.match(form.phone.strip()):
        problems["phone"] = ["请填写 11 位手机号码"]
    id_number = form.id_number.strip().upper()
    if not form.anonymous:
        if not form.name.strip():
            problems["name"] = ["请填写姓名"]
        if form.gender not in GENDERS:
            problems["gender"] = ["请选择性别"]
        if form.id_type not in ID_TYPES:
            problems["id_type"] = ["请选择证件类型"]
        if not id_number:
            problems["id_number"] = ["请填写证件号码"]
        elif form.id_type == "id_card" and (problem := id_number_problem(id_number)):
            problems["id_number"] = [problem]
        if not any(a.strip() for a in (form.household_address, form.usual_address, form.mail_address)):
            problems["usual_address"] = [NO_ADDRESS]
    if problems:
        raise InvalidData(next(iter(problems.values()))[0] if len(problems) == 1 else "注册信息填写有误",
                          fields=problems)
    verified = False
    if not form.anonymous and form.id_type == "id_card" and id_number.startswith(CHECKED_PREFIX):
        try:
            verified = real_name(form.name.strip(), id_number)
        except RealNameUnavailable:
            raise InvalidData(REAL_NAME_DOWN) from None
        if not verified:
            raise InvalidData(REAL_NAME_FAILED, fields={"id_number": [REAL_NAME_FAILED]})
    shown = form.name.strip() if not form.anonymous else "匿名信访人"
    user = identity.create_user(session, form.username.strip(), form.password, PROVINCE, ["petitioner"],
                                display_name=shown, enforce_policy=enforce_policy)
    profile = Petitioner(user_id=user.id, name=shown, gender=form.gender if not form.anonymous else "",
                         id_type=form.id_type if not form.anonymous else "",
                         id_number=id_number if not form.anonymous else "", phone=form.phone.strip(),
                         household_address=form.household_address.strip(), usual_address=form.usual_address.strip(),
                         mail_address=form.mail_address.strip(), anonymous=form.anonymous, verified=verified)
    session.add(profile)
    session.flush()
    return profile


@dataclass(frozen=True)
class ProfileChange:
    phone: str
    household_address: str = ""
    usual_address: str = ""
    mail_address: str = ""
    id_number: str = ""


def change_profile(session: Session, profile: Petitioner, change: ProfileChange,
                   real_name: RealNameCheck = check_digit_only) -> Petitioner:
    """个人信息修改 (004 §2.6, L787–788): 用户名, 性别, 姓名 and 证件类型 never change; the ID number neither
    once the real-name check passed (otherwise a new one is checked as at registration); the phone and the
    addresses do, with at least one address left for a named account."""
    problems: dict[str, list[str]] = {}
    if not MOBILE.match(change.phone.strip()):
        problems["phone"] = ["请填写 11 位手机号码"]
    addresses = (change.household_address.strip(), change.usual_address.strip(), change.mail_address.strip())
    if not profile.anonymous and not any(addresses):
        problems["usual_address"] = [NO_ADDRESS]
    id_number = change.id_number.strip().upper() or profile.id_number
    if id_number != profile.id_number:
        if profile.verified or profile.anonymous:
            problems["id_number"] = ["证件号码不能修改"]
        elif profile.id_type == "id_card" and (problem := id_number_problem(id_number)):
            problems["id_number"] = [problem]
    if problems:
        raise InvalidData("个人信息填写有误", fields=problems)
    if id_number != profile.id_number and profile.id_type == "id_card" and id_number.startswith(CHECKED_PREFIX):
        try:
            passed = real_name(profile.name, id_number)
        except RealNameUnavailable:
            raise InvalidData(REAL_NAME_DOWN) from None
        if not passed:
            raise InvalidData(REAL_NAME_FAILED, fields={"id_number": [REAL_NAME_FAILED]})
        profile.verified = True
    profile.phone = change.phone.strip()
    profile.household_address, profile.usual_address, profile.mail_address = (a[:200] for a in addresses)
    profile.id_number = id_number
    return profile
