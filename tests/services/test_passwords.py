"""The password policy (services/passwords.py) and every service that sets a password."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.errors import InvalidData
from services.platform import passwords
from services.platform.identity import User, admin_create_user, change_password, create_user, reset_password
from services.platform.passwords import HAS_USERNAME, TOO_COMMON, TOO_SHORT, check_password, password_problems
from tests.conftest import PASSWORD, account, actor


@pytest.mark.parametrize(("password", "username", "problems"), [
    ("Ab3-xyz", "someone", [TOO_SHORT]),
    ("12345678", "someone", [TOO_SHORT, TOO_COMMON]),  # what the attacker was let in with
    ("password", "someone", [TOO_SHORT, TOO_COMMON]),
    ("qwertyuiop", "someone", [TOO_COMMON]),
    ("Password123", "someone", [TOO_COMMON]),  # case does not matter
    ("password2024!", "someone", [TOO_COMMON]),  # a common word with a few digits and symbols after it
    ("woaini1314", "someone", [TOO_COMMON]),
    ("aaaaaaaaaaaa", "someone", [TOO_COMMON]),
    ("zhangsan-de-mima", "zhangsan", [HAS_USERNAME]),
    ("ZhangSan", "zhangsan", [TOO_SHORT, HAS_USERNAME]),
])
def test_each_rule_has_its_own_message(password, username, problems):
    assert password_problems(password, username) == problems


def test_the_common_list_has_thousands_of_entries():
    assert len(passwords.common_passwords()) >= 10_000


def test_check_password_names_every_broken_rule_on_the_field_and_passes_good_ones():
    with pytest.raises(InvalidData) as refused:
        check_password("12345678", "x", "password")
    assert refused.value.fields == {"password": [TOO_SHORT, TOO_COMMON]}
    check_password("Ma-ling-shu-47", "zhangsan")
    check_password("li-de-mima-2025", "li")  # a two-letter username forbids only itself, not every "li"


def test_every_service_that_sets_a_password_applies_the_policy(runtime):
    account(runtime, "policy_target")
    admin = actor("admin")
    with runtime.unit_of_work() as uow:
        target = uow.session.scalar(select(User).where(User.username == "policy_target"))
        attempts = {
            "create_user": lambda: create_user(uow.session, "policy_new", "short", "110105", ["reviewer"]),
            "admin_create_user": lambda: admin_create_user(uow.session, admin, "policy_new", "qwertyuiop", "110105",
                                                           ["reviewer"]),
            "reset_password": lambda: reset_password(uow.session, admin, target.id, "policy_target_2025"),
            "change_password": lambda: change_password(uow.session, target, PASSWORD, "iloveyou"),
        }
        refused = {}
        for name, attempt in attempts.items():
            with pytest.raises(InvalidData) as error:
                attempt()
            refused[name] = error.value.fields
    assert refused == {"create_user": {"password": [TOO_SHORT]}, "admin_create_user": {"password": [TOO_COMMON]},
                       "reset_password": {"new_password": [HAS_USERNAME]},
                       "change_password": {"new_password": [TOO_SHORT, TOO_COMMON]}}
