"""公民身份号码 (GB 11643-1999) with real numbers: the standard's own examples and altered copies."""
from __future__ import annotations

from datetime import date

import pytest

from services.platform.id_number import birth_date_of, check_digit, gender_of, id_number_problem

VALID = ["11010519491231002X", "440524188001010014", "110101199003076632", "32010619850214283X"]


@pytest.mark.parametrize("number", VALID)
def test_valid_numbers_pass(number):
    assert id_number_problem(number) is None
    assert check_digit(number[:17]) == number[17]


def test_lower_case_x_and_spaces_are_accepted():
    assert id_number_problem(" 11010519491231002x ") is None


@pytest.mark.parametrize("number", ["110105194912310021", "440524188001010015", "110101199003076630",
                                    "320106198502142830"])
def test_wrong_check_digit_is_refused(number):
    assert id_number_problem(number) == "公民身份号码校验位错误"


@pytest.mark.parametrize("number", ["11010519491231002", "1101051949123100211", "11010519491231002Y", "",
                                    "ABCDEFGHIJKLMNOPQR"])
def test_malformed_numbers_are_refused(number):
    assert id_number_problem(number) == "公民身份号码应为 18 位（前 17 位为数字，末位为数字或 X）"


def test_impossible_birth_date_is_refused():
    first17 = "11010519490230002"  # 30 February
    assert id_number_problem(first17 + check_digit(first17)) == "公民身份号码中的出生日期无效"


def test_birth_date_and_gender_come_from_the_number():
    assert birth_date_of("11010519491231002X") == date(1949, 12, 31)
    assert gender_of("11010519491231002X") == "female"  # 17th digit 2 is even
    assert gender_of("440524188001010014") == "male"  # 17th digit 1 is odd
