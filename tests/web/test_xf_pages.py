"""The petition system's screens: portal registration (check digit, address rule, real name), a
complaint with its prompt, 我反映的问题 with 撤回, the registrar's 判重 links and 来信登记, evaluation
by name and 查询码 — and who may see what."""
from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from services.petitions.models import Evaluation, Petition, Petitioner
from services.platform.demo_data import demo_id_number
from services.platform.id_number import check_digit
from services.platform.identity import User
from services.platform.organisations import OrganisationPost
from tests.conftest import PASSWORD


def wrong_check_digit(first17: str) -> str:
    right = check_digit(first17)
    return first17 + next(d for d in "0123456789X" if d != right)


def registration(**extra) -> dict:
    form = {"username": "xf_new_user", "password": PASSWORD, "phone": "13912345678", "agreed": "yes",
            "name": "赵六", "gender": "female", "id_type": "passport", "id_number": "E12345678",
            "usual_address": "济南市历下区"}
    return {**form, **extra}


def test_a_petitioner_registers_and_bad_particulars_change_nothing(runtime, province, browser):
    anonymous = browser()
    assert "注册须知" in anonymous.get("/xf/register").get_data(as_text=True)
    refused = {
        "请先阅读并同意注册须知": registration(agreed=""),
        "户口所在地、常用地址、通讯地址至少填写一项": registration(usual_address=""),
        "公民身份号码校验位错误": registration(id_type="id_card", id_number=wrong_check_digit("37010219700101001")),
    }
    for message, form in refused.items():
        answer = anonymous.post("/xf/register", form)
        assert answer.status_code == 400 and message in answer.get_data(as_text=True), message
    with runtime.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(User).where(User.username == "xf_new_user")) == 0
    done = anonymous.post("/xf/register", registration())
    assert done.status_code == 302 and "/signin" in done.location
    with runtime.unit_of_work() as uow:
        profile = uow.session.scalar(select(Petitioner).join(User, User.id == Petitioner.user_id)
                                     .where(User.username == "xf_new_user"))
        assert profile is not None and profile.name == "赵六" and not profile.verified  # a passport: unchecked
        uow.session.delete(uow.session.get(User, profile.user_id))
        uow.commit()


def test_a_shandong_id_number_is_checked_by_the_real_name_service(runtime, province, browser):
    number = demo_id_number("370102", __import__("datetime").date(1990, 1, 1), 7)
    answer = browser().post("/xf/register", registration(username="xf_real", id_type="id_card", id_number=number))
    assert answer.status_code == 302
    with runtime.unit_of_work() as uow:
        user = uow.session.scalar(select(User).where(User.username == "xf_real"))
        assert uow.session.scalar(select(Petitioner.verified).where(Petitioner.user_id == user.id)) is True
        uow.session.delete(user)
        uow.commit()


def test_a_complaint_is_submitted_followed_and_withdrawn_before_anyone_opened_it(runtime, province, browser):
    petitioner = browser("petitioner")
    page = petitioner.get("/xf/complaints/new").get_data(as_text=True)
    assert "问题发生地" in page and "济南市信访局" in page
    form = {"title": "", "place_region": "370102", "place_address": "解放路 1 号", "content": "请处理",
            "organisation": str(province.orgs["jn-xfj"].id)}
    assert petitioner.post("/xf/complaints/new", form).status_code == 400
    wrong = petitioner.post("/xf/complaints/new", {**form, "title": "噪音", "attachments": (io.BytesIO(b"MZ\x90"),
                                                                                           "a.pdf")},
                            content_type="multipart/form-data")
    assert wrong.status_code == 400 and "PDF" in wrong.get_data(as_text=True)
    sent = petitioner.post("/xf/complaints/new", {**form, "title": "噪音扰民"})
    assert sent.status_code == 302
    mine = petitioner.get(sent.location, follow_redirects=True).get_data(as_text=True)
    assert "已成功反映问题，请耐心等待工作人员处理" in mine and "撤回" in mine
    with runtime.unit_of_work() as uow:
        petition = uow.session.scalar(select(Petition).where(Petition.title == "噪音扰民"))
    # another petitioner, and the county's staff, do not see it
    assert browser("petitioner_li").get(sent.location).status_code == 404
    instance_id = petition.intake_instance_id
    withdrawn = petitioner.post(f"/my/cases/{instance_id}/withdraw", {"confirm": "yes", "reason": "已解决"})
    assert withdrawn.status_code == 302
    assert province.petition(petition.number).status == "withdrawn"


def test_the_registrar_links_a_duplicate_and_registers(runtime, province, browser):
    earlier = province.complaint(title="工资拖欠")
    province.register(earlier.number)
    later = province.complaint(title="工资拖欠（再次）")
    task = province.task(later.number, "register")
    registrar = browser("jn_registrar")
    page = registrar.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "判重" in page and earlier.number in page and "相同信访事项" in page
    # the county's registrar may not link (not their bureau's step)
    assert browser("lx_handler").post(f"/xf/tasks/{task.id}/link", {"kind": "matter",
                                                                    "petition_id": str(earlier.id)}).status_code == 404
    linked = registrar.post(f"/xf/tasks/{task.id}/link", {"kind": "matter", "petition_id": str(earlier.id)})
    assert linked.status_code == 302
    page = registrar.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "已关联" in page and re.search(r'name="in_scope"[^>]*disabled', page)
    assert province.petition(later.number).first is False


def test_a_letter_is_registered_from_its_page(runtime, province, browser):
    registrar = browser("jn_registrar")
    assert "来信详细登记" in registrar.get("/xf/letters/new").get_data(as_text=True)
    assert browser("jn_handler").get("/xf/letters/new").status_code == 404  # not a registrar
    form = {"office": str(province.orgs["jn-xfj"].id), "name": "王五", "address": "文化路 1 号", "title": "来信",
            "place_region": "370102", "place_address": "文化路 1 号", "content": "夜间施工", "id_number": "123"}
    bad = registrar.post("/xf/letters/new", form)
    assert bad.status_code == 400 and "公民身份号码" in bad.get_data(as_text=True)
    done = registrar.post("/xf/letters/new", {**form, "id_number": ""})
    assert done.status_code == 302 and "/tasks/" in done.location


def test_the_petitioner_evaluates_with_name_and_query_code(runtime, province, browser):
    petition = province.complaint()
    province.register(petition.number)
    province.do(petition.number, "handle", "jn_handler", {"mode": "reply", "reply": "已协调补发"})
    [case] = province.cases(petition.number)
    visitor = browser()
    assert visitor.post("/xf/query", {"name": "李四", "code": case.query_code}).status_code == 404
    found = visitor.post("/xf/query", {"name": "张三", "code": case.query_code})
    page = found.get_data(as_text=True)
    assert found.status_code == 200 and "已协调补发" in page and "提交评价" in page
    assert "jn_handler" not in page  # no staff names on the portal
    visitor.post("/xf/query", {"name": "张三", "code": case.query_code, "action": "evaluate",
                               "bureau_level": "satisfied", "unit_level": "fairly"})
    with runtime.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Evaluation)) == 1


def test_the_office_prints_the_query_code_and_sends_it_by_sms(runtime, province, browser):
    sent: list[tuple[str, str]] = []

    class Gateway:
        def send(self, mobile: str, text: str) -> None:
            sent.append((mobile, text))

    petition = province.complaint()
    [case] = province.cases(petition.number)
    office = browser("jn_registrar")
    slip = office.get(f"/xf/petitions/{petition.id}/slip").get_data(as_text=True)
    assert petition.number in slip and case.query_code[:4] in slip.replace("-", "")
    assert browser("lx_handler").get(f"/xf/petitions/{petition.id}/slip").status_code == 404  # another office
    assert browser("petitioner_li").get(f"/xf/petitions/{petition.id}/slip").status_code == 404
    runtime.notifier.sms, before = Gateway(), runtime.notifier.sms
    try:
        answer = office.post(f"/xf/petitions/{petition.id}/sms", {"back": "/inbox"})
    finally:
        runtime.notifier.sms = before
    assert answer.status_code == 302
    assert sent and sent[0][0] == petition.phone and "查询码" in sent[0][1]
    no_channel = office.post(f"/xf/petitions/{petition.id}/sms", {"back": "/inbox"}, follow_redirects=True)
    assert "短信通道未配置" in no_channel.get_data(as_text=True)


def test_a_simple_registration_is_a_record_without_a_case(runtime, province, browser):
    registrar = browser("jn_registrar")
    bad = registrar.post("/xf/simple", {"name": "周九", "address": "", "kind": "repeat", "letters": "2",
                                        "mode": "file"})
    assert bad.status_code == 400 and "请填写地址" in bad.get_data(as_text=True)
    done = registrar.post("/xf/simple", {"name": "周九", "address": "历下区", "kind": "repeat", "letters": "2",
                                         "mode": "file"})
    assert done.status_code == 302
    page = registrar.get("/xf/simple").get_data(as_text=True)
    assert "周九" in page and "重信" in page
    assert browser("jn_handler").get("/xf/simple").status_code == 404
    with runtime.unit_of_work() as uow:
        from engine.models import ProcessInstance
        assert uow.session.scalar(select(func.count()).select_from(ProcessInstance)) == 0


def test_an_admin_gives_and_takes_posts_at_organisations_of_their_regions(runtime, province, browser):
    from services.platform.identity import create_user

    with runtime.unit_of_work() as uow:
        if uow.session.scalar(select(User).where(User.username == "sd_admin")) is None:
            create_user(uow.session, "sd_admin", PASSWORD, "370000", ["admin"], "山东管理员")
        newcomer = uow.session.scalar(select(User).where(User.username == "sz_handler")).id
        uow.commit()
    county = str(province.orgs["lx-xfj"].id)
    assert browser("admin").post(f"/admin/users/{newcomer}/posts", {"organisation_id": county,
                                                                    "post": "xf_receiver"}).status_code == 404
    admin = browser("sd_admin")
    page = admin.get(f"/admin/users/{newcomer}").get_data(as_text=True)
    assert "机构岗位" in page and "市中区信访局" in page
    refused = admin.post(f"/admin/users/{newcomer}/posts", {"organisation_id": county, "post": "petitioner"})
    assert refused.status_code == 400
    assert admin.post(f"/admin/users/{newcomer}/posts", {"organisation_id": county, "post": "xf_receiver"}
                      ).status_code == 302
    assert ("xf_receiver", province.orgs["lx-xfj"].id) in province.actor("sz_handler").posts
    with runtime.unit_of_work() as uow:
        held = uow.session.scalar(select(OrganisationPost).where(
            OrganisationPost.user_id == newcomer, OrganisationPost.organisation_id == province.orgs["lx-xfj"].id))
    assert admin.post(f"/admin/users/{newcomer}/posts/{held.id}/revoke").status_code == 302
    assert ("xf_receiver", province.orgs["lx-xfj"].id) not in province.actor("sz_handler").posts


def test_the_online_desk_lists_unopened_complaints_in_bold_and_withdrawn_ones_apart(runtime, province, browser):
    waiting, withdrawn = province.complaint(title="待登记"), province.complaint(title="被撤回")
    petitioner = browser("petitioner")
    petitioner.post(f"/my/cases/{withdrawn.intake_instance_id}/withdraw", {"confirm": "yes"})
    registrar = browser("jn_registrar")
    desk = registrar.get("/xf/online").get_data(as_text=True)
    assert f"<strong>{waiting.number}</strong>" in desk and withdrawn.number not in desk
    step = province.task(waiting.number, "register")
    registrar.get(f"/tasks/{step.id}")  # 调阅: the complaint is opened, no longer withdrawable
    desk = registrar.get("/xf/online").get_data(as_text=True)
    assert waiting.number in desk and f"<strong>{waiting.number}</strong>" not in desk
    assert withdrawn.number in registrar.get("/xf/online?tab=withdrawn").get_data(as_text=True)
    assert browser("jn_handler").get("/xf/online").status_code == 404
    refused = petitioner.post(f"/my/cases/{waiting.intake_instance_id}/withdraw", {"confirm": "yes"},
                              follow_redirects=True)
    assert "不能撤回" in refused.get_data(as_text=True)
    assert province.petition(waiting.number).status == "submitted"


def test_a_petitioner_changes_phone_and_addresses_but_not_a_verified_id_number(runtime, province, browser):
    petitioner = browser("petitioner")
    page = petitioner.get("/xf/profile").get_data(as_text=True)
    assert "张三" in page and "已通过" in page and re.search(r'name="id_number"[^>]*readonly', page)
    assert petitioner.post("/xf/profile", {"phone": "13900000000", "usual_address": ""}).status_code == 400
    assert petitioner.post("/xf/profile", {"phone": "13900000000", "usual_address": "历下区",
                                           "id_number": "370102199001010000"}).status_code == 400
    assert petitioner.post("/xf/profile", {"phone": "13900000000", "usual_address": "历下区新地址"}).status_code == 302
    with runtime.unit_of_work() as uow:
        profile = uow.session.scalar(select(Petitioner).join(User, User.id == Petitioner.user_id)
                                     .where(User.username == "petitioner"))
        assert profile.phone == "13900000000" and profile.usual_address == "历下区新地址" and profile.name == "张三"


def test_the_registration_form_speaks_english_from_its_own_translations(runtime, province, browser):
    petition = province.complaint()
    task = province.task(petition.number, "register")
    registrar = browser("jn_registrar")
    registrar.get(f"/lang/en?next=/tasks/{task.id}")
    page = registrar.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "Petition registration" in page and ">Purpose" in page and "Request for a solution" in page
    assert 'value="demand"' in page  # the values stay
    registrar.get(f"/lang/zh_CN?next=/tasks/{task.id}")
    assert "信访目的" in registrar.get(f"/tasks/{task.id}").get_data(as_text=True)


def test_pages_name_regions_and_decisions_in_words(runtime, province, browser):
    petition = province.complaint()
    province.register(petition.number)
    province.do(petition.number, "handle", "jn_handler",
                {"mode": "transfer", "destination": str(province.orgs["lx-xfj"].id)})
    province.do(petition.number, "receive", "lx_receiver", {"decision": "sign"})
    step = province.task(petition.number, "handle")
    page = browser("lx_handler").get(f"/tasks/{step.id}").get_data(as_text=True)
    assert "区划 历下区" in page and "区划 370102" not in page  # the region by its name
    assert "签收" in page and "<td>sign</td>" not in page  # the 收件 decision in words in the history
    assert "<span data-user>历下处理员</span> · 历下区" in page  # the header: who and where
