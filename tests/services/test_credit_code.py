"""统一社会信用代码 (GB 32100-2015): its check character, and the reason a wrong code is refused."""
from __future__ import annotations

import pytest

from services.platform.credit_code import check_character, credit_code_problem


def test_the_standards_example_and_real_codes_pass():
    assert check_character("91350100M000100Y4") == "3"  # GB 32100's worked example
    for code in ("91350100M000100Y43", "91110000600037341L"):
        assert credit_code_problem(code) is None


@pytest.mark.parametrize(("code", "message"), [
    ("91350100M000100Y44", "校验位错误"),  # one wrong character
    ("91350100M000100Y4", "应为 18 位"),
    ("91350100M000100I43", "不含 I、O、Z、S、V"),  # I is not in the alphabet
    ("9135AB00M000100Y43", "行政区划代码"),
    ("", "应为 18 位"),
])
def test_a_wrong_code_is_refused_with_its_reason(code, message):
    assert message in (credit_code_problem(code) or "")


def test_lower_case_and_spaces_are_read_as_the_code():
    assert credit_code_problem(" 91350100m000100y43 ") is None
