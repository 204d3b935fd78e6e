"""The password policy, one for every way a password is set: the pages, the API and the CLI."""
from __future__ import annotations

import functools
import re

from engine.errors import InvalidData

MIN_LENGTH = 10
TOO_SHORT = f"密码至少 {MIN_LENGTH} 位"
TOO_COMMON = "密码过于常见或简单，容易被猜中，请换一个"
HAS_USERNAME = "密码不能与用户名相同，也不能包含用户名"
# "password2024!", "woaini1314": a common word followed by a short run of digits or symbols is just
# as guessable (cracking rules append them first), so the word itself is looked up as well.
_SHORT_SUFFIX = re.compile(r"[\W\d_]{1,6}$")


@functools.cache
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords (lower case) of the zxcvbn package (PyPI `zxcvbn`, MIT;
    Dropbox's list, drawn from leaked password sets). It ships with the package: no network."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problems(password: str, username: str) -> list[str]:
    """Every rule ``password`` breaks, each as its Chinese message (none: acceptable)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(TOO_SHORT)
    lowered = password.casefold()
    words = {lowered, _SHORT_SUFFIX.sub("", lowered)}
    if words & common_passwords() or len(set(lowered)) <= 2:
        problems.append(TOO_COMMON)
    name = username.casefold()
    # a short username (2 letters) would forbid too many passwords by containment: only equality
    if name and (lowered == name or (len(name) >= 3 and name in lowered)):
        problems.append(HAS_USERNAME)
    return problems


def check_password(password: str, username: str, field: str = "new_password") -> None:
    """Raise InvalidData naming every broken rule on ``field``."""
    problems = password_problems(password, username)
    if problems:
        raise InvalidData("；".join(problems), fields={field: problems})
