"""名录管理 for the ministry's catalogue_admin: add, edit, retire, delete — an entry in use cannot be
deleted and the service's reason is shown."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import delete, update

from services.special_work.models import WorkNature, WorkType
from tests.web.test_query_pages import add_persons

NEW = "ZZ901"


def entry(runtime, code: str) -> WorkType | None:
    with runtime.unit_of_work() as uow:
        return uow.session.get(WorkType, code)


@pytest.fixture
def new_code(runtime) -> Iterator[str]:
    """A code the test adds; removed afterwards (the catalogue is reference data)."""
    yield NEW
    with runtime.db.begin() as conn:
        conn.execute(delete(WorkType).where(WorkType.code == NEW))


def test_an_entry_in_use_cannot_be_deleted(runtime, browser):
    add_persons(runtime, "110101", 1, "在用")  # a work history of MT001
    admin = browser("catalogue_admin")
    admin.get("/catalogue")
    response = admin.post("/catalogue/work-types/MT001/delete")
    assert response.status_code == 409
    assert "该工种已被人员从业经历或申报使用，不能删除，只能停用" in response.get_data(as_text=True)
    assert entry(runtime, "MT001") is not None


def test_add_edit_and_delete_an_unused_entry(runtime, browser, new_code):
    admin = browser("catalogue_admin")
    bad = admin.post("/catalogue/work-types", {"code": "x", "name": "", "industry": "煤炭", "nature": "underground"})
    assert bad.status_code == 400
    page = bad.get_data(as_text=True)
    assert "工种编码应为 2 到 20 位大写字母或数字" in page and "请填写特殊工种名称" in page

    added = admin.post("/catalogue/work-types", {"code": new_code, "name": "测试工", "industry": "煤炭",
                                                 "nature": "underground"}, follow_redirects=True)
    assert f"已新增名录条目 {new_code}" in added.get_data(as_text=True)
    edit_form = admin.get(f"/catalogue?edit={new_code}").get_data(as_text=True)
    assert f'action="/catalogue/work-types/{new_code}"' in edit_form
    admin.post(f"/catalogue/work-types/{new_code}",
               {"name": "测试工（改）", "industry": "煤炭", "nature": "underground"})
    assert entry(runtime, new_code).name == "测试工（改）"
    deleted = admin.post(f"/catalogue/work-types/{new_code}/delete", follow_redirects=True)
    assert f"已删除名录条目 {new_code}" in deleted.get_data(as_text=True)
    assert entry(runtime, new_code) is None


def test_retire_and_reactivate(runtime, browser):
    admin = browser("catalogue_admin")
    admin.get("/catalogue")
    try:
        retired = admin.post("/catalogue/work-types/MT002/active", {"active": "false"}, follow_redirects=True)
        assert "已停用 MT002" in retired.get_data(as_text=True) and entry(runtime, "MT002").active is False
    finally:
        admin.post("/catalogue/work-types/MT002/active", {"active": "true"})
    assert entry(runtime, "MT002").active is True


def test_only_the_ministry_maintains_the_catalogue(runtime, browser):
    for user in ("province_catalogue_admin", "reviewer"):
        b = browser(user)
        assert b.get("/catalogue").status_code == 403
        assert b.post("/catalogue/work-types/JZ001/delete").status_code == 403
    assert entry(runtime, "JZ001") is not None


def test_nature_rule_is_checked_and_edited(runtime, browser):
    admin = browser("catalogue_admin")
    page = admin.get("/catalogue").get_data(as_text=True)
    assert 'action="/catalogue/natures/underground"' in page
    bad = admin.post("/catalogue/natures/underground", {"required_years": "0", "min_age_male": "55",
                                                        "min_age_female": "abc"})
    assert bad.status_code == 400 and "请填写整数" in bad.get_data(as_text=True)
    out_of_range = admin.post("/catalogue/natures/underground", {"required_years": "0", "min_age_male": "55",
                                                                 "min_age_female": "45"})
    assert out_of_range.status_code == 400
    assert "累计年限应在 1 到 40 年之间" in out_of_range.get_data(as_text=True)
    with runtime.unit_of_work() as uow:
        before = uow.session.get(WorkNature, "underground")
        rule = (before.required_years, before.min_age_male, before.min_age_female)
    try:
        saved = admin.post("/catalogue/natures/underground", {"required_years": "10", "min_age_male": "55",
                                                              "min_age_female": "45"}, follow_redirects=True)
        assert "已保存特殊工种性质 underground 的提前退休条件" in saved.get_data(as_text=True)
        with runtime.unit_of_work() as uow:
            assert uow.session.get(WorkNature, "underground").required_years == 10
    finally:
        with runtime.db.begin() as conn:
            conn.execute(update(WorkNature).where(WorkNature.code == "underground").values(
                required_years=rule[0], min_age_male=rule[1], min_age_female=rule[2]))
