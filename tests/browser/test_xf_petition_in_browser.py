"""信访 (seed 004) in a real browser, as its users take it: a petitioner (张三) 反映问题 on the portal and
reads the 查询码 on the item's page; 济南市信访局's registrar finds the petitioner's earlier item by 判重,
links it as 相同信访事项 (so the 满意度评价 scope is locked off) and registers; the handler 交办s it to
历下区信访局, whose receiver 签收s and whose handler 报告s; the handler 采纳，办结s the report. A visitor
without an account finds the item by name and 查询码 and sees the report but no evaluation. A second,
first-time item (求决) answered by 直接回复 is evaluated the same way. Key pages are also shown in English."""
from __future__ import annotations

import re

from sqlalchemy import select

from services.petitions.demo import ORGANISATIONS, make_province
from services.petitions.models import Evaluation, Petition, Petitioner
from services.platform import organisations
from services.platform.identity import User
from tests.conftest import PASSWORD
from tests.processes.xf_helpers import Province

PETITIONER, NAME = "petitioner", "张三"
CODE = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")
REPORT = "经核实，已责成用人单位于本月底前补发拖欠工资，并当面告知信访人"
REPLY = "灵活就业人员可在户籍地或居住地参保，具体办法见市人社局公告"


def shandong(rt) -> Province:
    """The demo province's 信访部门 with their people's posts and its two portal petitioners, made on the
    live server's database by the function the ``province`` fixture of tests/processes/xf_helpers.py uses
    (the browser tests run on their own runtime, not the ``runtime`` fixture); made once, since that
    database lives for the whole session."""
    with rt.unit_of_work() as uow:
        session = uow.session
        if organisations.by_code(session, "sd-xfj") is None:
            make_province(session, PASSWORD, enforce_policy=True)
            uow.commit()
        orgs = {code: organisations.by_code(session, code) for code, *_rest in ORGANISATIONS}
        for organisation in orgs.values():
            session.expunge(organisation)
    return Province(rt, orgs)


def submit(page) -> None:
    page.locator("section.task-form form").get_by_role("button", name="提交", exact=True).click()


def open_from_inbox(page, number: str, step: str) -> str:
    """The staff member's way to a task: 待办, the item's row at that step, its number; → the task's id."""
    page.goto("/inbox")
    row = page.locator("table.tasks tbody tr", has_text=number).filter(has_text=step)
    row.get_by_role("link", name=number).click()
    page.wait_for_url(re.compile(r"/tasks/"))
    assert step in page.locator("h1").inner_text()
    return page.url.rsplit("/", 1)[1]


def flash(page, text: str):
    return page.locator(".alert-success", has_text=text)


def complain(page, title: str, content: str) -> tuple[str, str]:
    """反映问题 on the portal → (the item's number, its 查询码 as shown)."""
    page.goto("/xf/complaints/new")
    assert page.locator("h1").inner_text().startswith("反映问题")
    page.locator("input[name=title]").fill(title)
    page.locator("select[name=place_region]").select_option(label="历下区")
    assert page.locator("select[name=place_region]").input_value() == "370102"
    page.locator("select[name=organisation]").select_option(label="济南市信访局")
    page.locator("input[name=place_address]").fill("济南市历下区解放路 88 号")
    page.locator("textarea[name=content]").fill(content)
    page.locator("form").get_by_role("button", name="提交", exact=True).click()
    page.wait_for_url(re.compile(r"/xf/mine/\d+$"))
    assert flash(page, "已成功反映问题，请耐心等待工作人员处理").is_visible()
    code = page.locator("#xf-query-code").inner_text()
    shown = CODE.search(code)
    assert shown is not None, code
    return page.locator("h1 small").inner_text(), shown.group(0)


def query(page, code: str) -> None:
    """信访事项查询、评价 without an account: name and 查询码."""
    page.goto("/xf/query")
    page.get_by_label("信访人姓名").fill(NAME)
    page.get_by_label("查询码").fill(code)
    with page.expect_navigation():
        page.get_by_role("button", name="查询", exact=True).click()


def language(page, lang: str) -> None:
    """The header's language link (中文 / English), as a user switches; the page reloads in that language.
    (A page.goto of /lang/<lang> instead sometimes loses the cookie its redirect sets in Chromium.)"""
    with page.expect_navigation():
        page.locator(f"a[lang={lang}]").first.click()
    assert page.locator("html").get_attribute("lang") == lang


def petition(rt, number: str) -> Petition:
    with rt.unit_of_work(read_only=True) as uow:
        row = uow.session.scalar(select(Petition).where(Petition.number == number))
        uow.session.expunge(row)
        return row


def test_a_repeated_complaint_is_assigned_reported_and_found_by_query_code(live, open_page, chromium, output_dir):
    base, rt = live
    province = shandong(rt)
    with rt.unit_of_work(read_only=True) as uow:  # the petitioner's profile, as 注册 made it
        assert uow.session.scalar(select(Petitioner.name).join(User, User.id == Petitioner.user_id)
                                  .where(User.username == PETITIONER)) == NAME

    # an earlier item of the same petitioner, registered by the office before
    petitioner = open_page(PETITIONER)
    earlier, _earlier_code = complain(petitioner, "拖欠工资三个月", "单位拖欠工资三个月，请求处理。")
    province.register(earlier)

    # 1. 反映问题 again
    number, code = complain(petitioner, "拖欠工资仍未解决", "上次反映的拖欠工资问题至今仍未解决，请求督促处理。")
    assert number != earlier
    petitioner.screenshot(path=str(output_dir / "xf_1_complaint.png"), full_page=True)

    # 2. 登记: 判重 finds the earlier item; 相同信访事项 locks 纳入满意度评价 off
    registrar = open_page("jn_registrar")
    register_task = open_from_inbox(registrar, number, "登记")
    duplicates = registrar.locator("#xf-duplicates")
    assert duplicates.locator("p", has_text="未关联").is_visible()
    candidate = duplicates.locator("tbody tr", has_text=earlier)
    assert candidate.count() == 1
    assert candidate.locator("td").nth(1).inner_text() == NAME
    with registrar.expect_navigation():  # back to the same task page
        candidate.get_by_role("button", name="相同信访事项").click()
    assert registrar.url.endswith(f"/tasks/{register_task}")
    assert flash(registrar, "已选择：相同信访事项").is_visible()
    assert duplicates.locator("p", has_text="已关联").inner_text().startswith(f"已关联：{earlier}")
    in_scope = registrar.locator("section.task-form input[name=in_scope][type=checkbox]")
    assert in_scope.is_disabled() and not in_scope.is_checked()
    registrar.locator("select[name=purpose]").select_option("appeal")
    registrar.locator("select[name=category]").select_option("labour")
    registrar.screenshot(path=str(output_dir / "xf_2_register.png"), full_page=True)
    submit(registrar)
    registrar.wait_for_url(re.compile(r"/inbox"))
    assert flash(registrar, f"已办理：{number} 登记").is_visible()
    registered = petition(rt, number)
    assert (registered.first, registered.in_scope, registered.purpose) == (False, False, "appeal")
    assert registered.matter_id == petition(rt, earlier).matter_id

    # 3. 办理 at 济南: 交办 to 历下区信访局 (the default by 问题属地)
    handler = open_page("jn_handler")
    open_from_inbox(handler, number, "办理")
    handler.locator("input[name=mode][value=assign]").check()
    destination = handler.locator("select[name=destination]")
    assert destination.input_value() == str(province.orgs["lx-xfj"].id)
    assert destination.locator("option:checked").inner_text() == "历下区信访局"
    handler.locator("input[name=deadline_days]").fill("30")
    handler.locator("textarea[name=opinion]").fill("请核实后报告办理结果")
    handler.screenshot(path=str(output_dir / "xf_3_assign.png"), full_page=True)
    submit(handler)
    handler.wait_for_url(re.compile(r"/inbox"))
    assert flash(handler, f"已办理：{number} 办理").is_visible()

    # 4. 收件 at 历下区: 签收
    receiver = open_page("lx_receiver")
    open_from_inbox(receiver, number, "收件")
    receiver.locator("input[name=decision][value=sign]").check()
    receiver.screenshot(path=str(output_dir / "xf_4_receive.png"), full_page=True)
    submit(receiver)
    receiver.wait_for_url(re.compile(r"/inbox"))
    assert flash(receiver, f"已办理：{number} 收件").is_visible()

    # 5. 办理 at 历下区: 报告
    county = open_page("lx_handler")
    open_from_inbox(county, number, "办理")
    county.locator("input[name=mode][value=report]").check()
    county.locator("textarea[name=opinion]").fill(REPORT)
    county.screenshot(path=str(output_dir / "xf_5_report.png"), full_page=True)
    submit(county)
    county.wait_for_url(re.compile(r"/inbox"))
    assert flash(county, f"已办理：{number} 办理").is_visible()

    # 6. 汇报审阅 at 济南: 采纳，办结
    open_from_inbox(handler, number, "汇报审阅")
    assert handler.get_by_text(REPORT).first.is_visible()
    handler.locator("input[name=decision][value=approve]").check()
    handler.screenshot(path=str(output_dir / "xf_6_review.png"), full_page=True)
    submit(handler)
    handler.wait_for_url(re.compile(r"/inbox"))
    assert flash(handler, f"已办理：{number} 汇报审阅").is_visible()
    assert petition(rt, number).reply == REPORT

    # 7. a visitor without an account: name and 查询码 → the report, and no evaluation (非初次)
    visitor_context = chromium.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", base_url=base)
    try:
        visitor = visitor_context.new_page()
        visitor.set_default_timeout(15_000)
        query(visitor, code)
        assert visitor.locator("h1 small").inner_text() == number
        assert visitor.locator("#xf-reply").inner_text() == REPORT
        assert visitor.locator("#xf-query-code").count() == 0
        evaluation = visitor.locator("#xf-evaluation")
        assert evaluation.get_by_role("button", name="评价", exact=True).is_disabled()
        assert evaluation.get_by_text("该信访件不在满意度评价范围内").is_visible()
        assert evaluation.locator("input[name=bureau_level]").count() == 0
        visitor.screenshot(path=str(output_dir / "xf_7_query.png"), full_page=True)
    finally:
        visitor_context.close()

    # 8. the petitioner's item page in English
    petitioner.goto(f"/xf/mine/{petition(rt, number).id}")
    language(petitioner, "en")
    assert petitioner.url.endswith(f"/xf/mine/{petition(rt, number).id}")
    assert petitioner.locator("#xf-reply").inner_text() == REPORT
    petitioner.screenshot(path=str(output_dir / "xf_en_petition.png"), full_page=True)


def test_a_first_complaint_is_answered_and_evaluated_by_query_code(live, open_page, chromium, output_dir):
    from playwright.sync_api import expect

    base, rt = live
    shandong(rt)
    petitioner = open_page(PETITIONER)
    number, code = complain(petitioner, "咨询灵活就业参保政策", "本人灵活就业，想了解在济南参加社保的办法。")
    petitioner.screenshot(path=str(output_dir / "xf_8_second_complaint.png"), full_page=True)

    # 登记 without a link (a new matter, 初次); shown in English first, then done in Chinese
    registrar = open_page("jn_registrar")
    task = open_from_inbox(registrar, number, "登记")
    language(registrar, "en")
    assert registrar.url.endswith(f"/tasks/{task}")
    assert registrar.locator("#xf-duplicates").is_visible()
    registrar.screenshot(path=str(output_dir / "xf_en_register.png"), full_page=True)
    language(registrar, "zh-CN")
    assert registrar.locator("#xf-duplicates p", has_text="未关联").is_visible()
    in_scope = registrar.locator("section.task-form input[name=in_scope][type=checkbox]")
    assert in_scope.is_enabled() and not in_scope.is_checked()  # 初次, purpose not chosen yet: the registrar's
    registrar.locator("select[name=purpose]").select_option("demand")
    registrar.locator("select[name=category]").select_option("labour")
    # 求决 of a first item is in scope by the rule: the page asks the server and ticks and locks the box
    expect(in_scope).to_be_checked()
    expect(in_scope).to_be_disabled()
    assert registrar.locator("[data-scope-words]", has_text="必须纳入满意度评价").is_visible()
    submit(registrar)
    registrar.wait_for_url(re.compile(r"/inbox"))
    assert flash(registrar, f"已办理：{number} 登记").is_visible()
    registered = petition(rt, number)
    assert (registered.first, registered.in_scope, registered.purpose) == (True, True, "demand")

    # 办理: 直接回复
    handler = open_page("jn_handler")
    open_from_inbox(handler, number, "办理")
    handler.locator("input[name=mode][value=reply]").check()
    handler.locator("textarea[name=reply]").fill(REPLY)
    handler.screenshot(path=str(output_dir / "xf_9_reply.png"), full_page=True)
    submit(handler)
    handler.wait_for_url(re.compile(r"/inbox"))
    assert flash(handler, f"已办理：{number} 办理").is_visible()

    # the visitor evaluates by name and 查询码
    visitor_context = chromium.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", base_url=base)
    try:
        visitor = visitor_context.new_page()
        visitor.set_default_timeout(15_000)
        query(visitor, code)
        assert visitor.locator("#xf-reply").inner_text() == REPLY
        evaluation = visitor.locator("#xf-evaluation")
        evaluation.locator("input[name=bureau_level][value=satisfied]").check()
        evaluation.locator("input[name=unit_level][value=satisfied]").check()
        evaluation.get_by_label("留言").fill("答复清楚，谢谢")
        visitor.screenshot(path=str(output_dir / "xf_10_evaluate.png"), full_page=True)
        with visitor.expect_navigation():
            evaluation.get_by_role("button", name="提交评价").click()
        assert flash(visitor, "评价已提交").is_visible()
        assert evaluation.get_by_text("第 1 次评价").is_visible()
        assert visitor.locator("#xf-reply").inner_text() == REPLY
        visitor.screenshot(path=str(output_dir / "xf_11_evaluated.png"), full_page=True)
        visitor.goto("/xf/query")  # the same page in English: the form's fields by their ids
        language(visitor, "en")
        visitor.locator("#xf-name").fill(NAME)
        visitor.locator("#xf-code").fill(code)
        with visitor.expect_navigation():
            visitor.locator("form button[type=submit]").click()
        assert visitor.locator("html").get_attribute("lang") == "en"
        assert visitor.locator("#xf-evaluation").get_by_text("Rating 1").is_visible()
        assert visitor.locator("#xf-reply").inner_text() == REPLY
        visitor.screenshot(path=str(output_dir / "xf_en_query.png"), full_page=True)
    finally:
        visitor_context.close()
    with rt.unit_of_work(read_only=True) as uow:
        given = uow.session.scalars(select(Evaluation).where(Evaluation.petition_id == registered.id)).all()
        assert [(e.seq, e.bureau_level, e.unit_level) for e in given] == [(1, "satisfied", "satisfied")]
