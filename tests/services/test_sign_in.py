"""Signing in: one answer for every refusal, each after exactly one argon2 verification."""
from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from engine.errors import Unauthenticated
from services.platform import identity
from services.platform.identity import SIGN_IN_REFUSED, User, authenticate
from tests.conftest import PASSWORD, account


class CountingHasher(PasswordHasher):
    """The real hasher, recording which hash each verification was made against."""

    def __init__(self):
        super().__init__()
        self.verified: list[str] = []

    def verify(self, hash, password):  # noqa: A002 - argon2's own parameter name
        self.verified.append(hash)
        return super().verify(hash, password)


@pytest.fixture
def hasher(monkeypatch) -> CountingHasher:
    counting = CountingHasher()
    monkeypatch.setattr(identity, "_hasher", counting)
    return counting


@pytest.mark.parametrize(("case", "password"), [("unknown", PASSWORD), ("inactive", PASSWORD), ("locked", PASSWORD),
                                                ("wrong", "not-the-password")])
def test_every_refusal_has_one_message_and_one_verification(runtime, hasher, case, password):
    username = f"sign_in_{case}"
    if case != "unknown":
        account(runtime, username, active=case != "inactive", locked=case == "locked")
    with runtime.unit_of_work() as uow:
        with pytest.raises(Unauthenticated) as refused:
            authenticate(uow.session, username, password)
        stored = uow.session.scalar(select(User.password_hash).where(User.username == username))
    assert refused.value.message == SIGN_IN_REFUSED
    assert len(hasher.verified) == 1
    # an unknown user is checked against the dummy hash, a known one against its own hash
    assert hasher.verified[0] == (stored if stored is not None else identity._dummy_hash())

