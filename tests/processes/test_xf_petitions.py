"""The petition processes end to end: intake with 判重 and the 满意度评价 scope, and the 办理方式 of an
organisation — 转送, 交办 with 报告 and 汇报审阅, 告知, 自办, 直接回复, 存, 送审, 退回 of a mis-routed item."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.models import HumanTask, InstanceStatus, TaskStatus, Timer
from services.petitions import evaluations, intake
from services.petitions.models import Evaluation, HandlingRecord, Petition
from services.platform import applicant_actions, documents


def records(runtime, petition_id: int) -> list[tuple[str, int]]:
    with runtime.unit_of_work() as uow:
        return [(r.mode, r.organisation_id) for r in uow.session.scalars(
            select(HandlingRecord).where(HandlingRecord.petition_id == petition_id).order_by(HandlingRecord.id))]


def test_a_complaint_reaches_the_registrars_of_the_bureau_it_was_addressed_to_and_no_one_else(runtime, province):
    petition = province.complaint()
    [case] = province.cases(petition.number)
    assert case.process_key == "xf_online_intake" and case.organisation_id == province.orgs["jn-xfj"].id
    assert petition.number.startswith("XFW370100") and petition.status == "submitted"
    row = province.task(petition.number, "register")
    assert row.organisation_id == province.orgs["jn-xfj"].id
    with runtime.unit_of_work() as uow:
        engine = runtime.engine
        # the county's registrar holds the same post at another bureau: the step is not theirs
        with pytest.raises(NotFound):
            engine.claim(uow, row.id, province.actor("lx_handler"))
        engine.claim(uow, row.id, province.actor("jn_registrar"))
        uow.commit()


def test_a_complaint_needs_its_required_fields_and_a_bureau_covering_the_place(runtime, province):
    with pytest.raises(InvalidData) as error:
        province.complaint(title="")
    assert "title" in error.value.fields
    with pytest.raises(InvalidData, match="问题发生地不存在"):
        province.complaint(bureau="sd-xfj", place="999999")
    # 市中区信访局 does not cover 历下区
    with pytest.raises(InvalidData, match="问题发生地所在的信访部门"):
        province.complaint(bureau="sz-xfj", place="370102")
    with runtime.unit_of_work() as uow:
        assert not list(uow.session.scalars(select(HumanTask)))


def test_withdrawal_and_the_registrars_first_opening_exclude_each_other(runtime, province):
    first, second = province.complaint(), province.complaint(title="第二件")
    engine = runtime.engine
    with runtime.unit_of_work() as uow:  # the petitioner withdraws the first before anyone opened it
        applicant_actions.withdraw(uow, engine, province.actor("petitioner"), first.intake_instance_id, "已解决")
        uow.commit()
    assert province.petition(first.number).status == "withdrawn"
    with runtime.unit_of_work() as uow:  # the registrar opens the second (调阅 = claim) …
        engine.claim(uow, province.task(second.number, "register").id, province.actor("jn_registrar"))
        uow.commit()
    with runtime.unit_of_work() as uow, pytest.raises(Conflict, match="不能撤回"):  # … and it stays
        applicant_actions.withdraw(uow, engine, province.actor("petitioner"), second.intake_instance_id, "")
    assert province.petition(second.number).status == "submitted"


def test_duplicates_are_found_across_the_province_and_a_same_matter_link_takes_the_item_out_of_scope(
        runtime, province):
    earlier = province.complaint(title="社保断缴")
    province.register(earlier.number)
    later = province.complaint(title="社保断缴（再次反映）")
    row = province.task(later.number, "register")
    with runtime.unit_of_work() as uow:
        _, petition = intake.register_task(uow.session, province.actor("jn_registrar"), row.id)
        found = intake.candidates(uow.session, petition)
    assert [c.number for c in found] == [earlier.number] and found[0].matched_by == "证件号码"
    with runtime.unit_of_work() as uow:
        # only one of the 判重 results may be linked
        with pytest.raises(InvalidData, match="判重结果"):
            intake.link(uow, province.actor("jn_registrar"), row.id, "matter", later.id)
        intake.link(uow, province.actor("jn_registrar"), row.id, "matter", earlier.id)
        uow.commit()
    assert province.petition(later.number).first is False
    # 非初次: the rule locks it out of scope; a client asking for it is refused and nothing changes
    with pytest.raises(InvalidData, match="满意度评价范围由系统根据规则确定"):
        province.register(later.number, in_scope=True)
    assert province.task(later.number, "register").status == TaskStatus.OPEN
    province.register(later.number, in_scope=False)
    again = province.petition(later.number)
    assert again.matter_id == province.petition(earlier.number).matter_id and again.in_scope is False


@pytest.mark.parametrize(("purpose", "law_related", "asked", "stored"), [
    ("demand", False, None, True),  # 初次、非匿名、非涉法涉诉、求决类: must be in scope
    ("suggestion", False, True, True),  # not 求决类: the registrar decides
    ("suggestion", False, False, False),
    ("appeal", True, None, False),  # 涉法涉诉: never
])
def test_the_satisfaction_scope_follows_the_rule_table(runtime, province, purpose, law_related, asked, stored):
    petition = province.complaint()
    data = {"purpose": purpose, "category": "labour", "law_related": law_related, "anonymous": False}
    if asked is not None:
        data["in_scope"] = asked
    province.do(petition.number, "register", "jn_registrar", data)
    assert province.petition(petition.number).in_scope is stored


def test_a_locked_in_scope_item_cannot_be_taken_out_by_the_client(runtime, province):
    petition = province.complaint()
    with pytest.raises(InvalidData, match="不能修改"):
        province.register(petition.number, in_scope=False)


def test_transfer_starts_the_destinations_case_whose_receiver_may_return_it(runtime, province):
    petition = province.complaint()
    province.register(petition.number)
    lx = province.orgs["lx-xfj"]
    province.do(petition.number, "handle", "jn_handler", {"mode": "transfer", "destination": str(lx.id),
                                                         "opinion": "请属地处理"})
    intake_case, child = province.cases(petition.number)
    assert intake_case.status == InstanceStatus.COMPLETED and intake_case.case_status == "transferred"
    assert child.process_key == "xf_handling" and child.organisation_id == lx.id and child.region_code == "370102"
    assert province.petition(petition.number).status == "transferred"
    assert province.petition(petition.number).responsible_org_id == lx.id
    # the county's receiver returns it: a new case at the city waits for its 收件
    province.do(petition.number, "receive", "lx_receiver", {"decision": "return", "conclusion": "不属于本单位职责"})
    cases = province.cases(petition.number)
    assert cases[1].status == InstanceStatus.COMPLETED
    assert cases[2].organisation_id == province.orgs["jn-xfj"].id
    assert province.task(petition.number, "receive").organisation_id == province.orgs["jn-xfj"].id
    assert province.petition(petition.number).status == "returned"
    assert [m for m, _ in records(runtime, petition.id)] == ["transfer", "return"]


def test_transfer_and_assign_go_only_to_lower_or_directly_subordinate_organisations(runtime, province):
    petition = province.complaint()
    province.register(petition.number)
    for destination in ("sd-xfj", "jn-xfj"):  # the province above, oneself
        with pytest.raises(InvalidData, match="下级或直属单位"):
            province.do(petition.number, "handle", "jn_handler",
                        {"mode": "transfer", "destination": str(province.orgs[destination].id)})
    # the city's 直属单位 is a valid destination
    province.do(petition.number, "handle", "jn_handler",
                {"mode": "assign", "destination": str(province.orgs["jn-rsj"].id)})
    assert province.cases(petition.number)[-1].organisation_id == province.orgs["jn-rsj"].id


def test_assign_waits_for_the_report_which_the_sender_accepts_or_returns(runtime, province):
    petition = province.complaint()
    province.register(petition.number)
    lx = province.orgs["lx-xfj"]
    province.do(petition.number, "handle", "jn_handler",
                {"mode": "assign", "destination": str(lx.id), "deadline_days": 30})
    parent, child = province.cases(petition.number)
    assert parent.status == InstanceStatus.WAITING
    with runtime.unit_of_work() as uow:  # the 督办 timer at the deadline
        [timer] = uow.session.scalars(select(Timer).where(Timer.instance_id == parent.id))
        assert (timer.due_at - timer.created_at).days in (29, 30)
    province.do(petition.number, "receive", "lx_receiver", {"decision": "sign"})
    # 报告 only on an item assigned here; the city's own items cannot report
    province.do(petition.number, "handle", "lx_handler", {"mode": "report", "opinion": "已补发工资"})
    assert province.petition(petition.number).status == "reported"
    province.do(petition.number, "review_report", "jn_handler", {"decision": "return", "conclusion": "请附凭证"})
    assert province.task(petition.number, "handle").organisation_id == lx.id  # the child handles it again
    province.do(petition.number, "handle", "lx_handler", {"mode": "report", "opinion": "已补发工资，附凭证"})
    province.do(petition.number, "review_report", "jn_handler", {"decision": "approve"})
    parent, child = province.cases(petition.number)
    assert parent.status == child.status == InstanceStatus.COMPLETED
    answered = province.petition(petition.number)
    assert answered.status == "replied" and answered.reply == "已补发工资，附凭证"
    with runtime.unit_of_work() as uow:
        assert not list(uow.session.scalars(select(Timer).where(Timer.fired.is_(False))))


def test_a_returned_assignment_comes_back_to_the_senders_handler(runtime, province):
    petition = province.complaint()
    province.register(petition.number)
    province.do(petition.number, "handle", "jn_handler",
                {"mode": "assign", "destination": str(province.orgs["lx-xfj"].id)})
    province.do(petition.number, "receive", "lx_receiver", {"decision": "return", "conclusion": "不属于本单位职责"})
    assert province.task(petition.number, "handle").organisation_id == province.orgs["jn-xfj"].id
    assert province.petition(petition.number).responsible_org_id == province.orgs["jn-xfj"].id


def test_report_is_refused_on_an_item_not_assigned_here(runtime, province):
    petition = province.complaint()
    province.register(petition.number)
    with pytest.raises(InvalidData, match="交办来的"):
        province.do(petition.number, "handle", "jn_handler", {"mode": "report", "opinion": "x"})


def test_notices_come_only_from_the_responsible_office_and_self_handling_only_after_acceptance(runtime, province):
    petition = province.complaint()
    province.register(petition.number)
    with pytest.raises(InvalidData, match="请先出具受理告知书"):
        province.do(petition.number, "handle", "jn_handler", {"mode": "self"})
    province.do(petition.number, "handle", "jn_handler", {"mode": "notice_accept"})
    assert province.petition(petition.number).status == "accepted"
    with runtime.unit_of_work() as uow:
        [document] = uow.session.scalars(select(documents.CaseDocument))
        assert document.kind == "petition_notice" and "信告字" in document.number
        assert document.content.startswith(b"%PDF")
    province.do(petition.number, "handle", "jn_handler", {"mode": "self"})
    assert province.task(petition.number, "self_handle").due_at is not None
    province.do(petition.number, "self_handle", "jn_handler", {"reply": "经调查，已责成用人单位支付"})
    assert province.petition(petition.number).status == "replied"

    # an item transferred away: the city is no longer its 责任单位
    other = province.complaint(title="另一件")
    province.register(other.number)
    province.do(other.number, "handle", "jn_handler",
                {"mode": "transfer", "destination": str(province.orgs["lx-xfj"].id)})
    province.do(other.number, "receive", "lx_receiver", {"decision": "return", "conclusion": "错转"})
    province.do(other.number, "receive", "jn_handler", {"decision": "sign"})
    province.do(other.number, "handle", "jn_handler", {"mode": "notice_refuse", "opinion": "不属于信访范围"})
    assert province.petition(other.number).status == "not_accepted"


def test_a_notice_by_an_office_that_is_not_the_responsible_one_is_refused(runtime, province):
    petition = province.complaint()
    province.register(petition.number)
    # the item's 责任单位 is now the county (as after a 交办 answered there) while the city's step is open
    with runtime.unit_of_work() as uow:
        uow.session.get(Petition, petition.id).responsible_org_id = province.orgs["lx-xfj"].id
        uow.commit()
    for mode in ("notice_accept", "notice_refuse", "notice_no_more"):
        with pytest.raises(InvalidData, match="只有责任单位为本单位的信访件才能出具告知书"):
            province.do(petition.number, "handle", "jn_handler", {"mode": mode})
    with runtime.unit_of_work() as uow:
        assert not list(uow.session.scalars(select(documents.CaseDocument)))
    assert province.petition(petition.number).status == "registered"


def test_submit_for_review_goes_to_the_chosen_leader_of_the_office(runtime, province):
    petition = province.complaint()
    province.register(petition.number)
    with pytest.raises(InvalidData, match="领导"):
        province.do(petition.number, "handle", "jn_handler", {"mode": "submit_review", "leader_username": "lx_handler"})
    province.do(petition.number, "handle", "jn_handler", {"mode": "submit_review", "leader_username": "jn_leader",
                                                         "opinion": "拟转历下区办理"})
    review = province.task(petition.number, "leader_review")
    assert review.assignee == "jn_leader" and review.lane == "leader"
    province.do(petition.number, "leader_review", "jn_leader", {"decision": "approve", "conclusion": "同意"})
    province.do(petition.number, "handle", "jn_handler", {"mode": "file", "opinion": "已存"})
    assert province.petition(petition.number).status == "filed"
    assert province.cases(petition.number)[0].case_status == "filed"


def test_the_petitioner_evaluates_an_answered_item_in_scope_at_most_twice(runtime, province):
    petition = province.complaint()
    province.register(petition.number)
    with runtime.unit_of_work() as uow, pytest.raises(Conflict, match="尚未办结"):
        evaluations.evaluate(uow.session, evaluations.own_petition(uow.session, province.actor("petitioner"),
                                                                    petition.id), "satisfied", "satisfied")
    province.do(petition.number, "handle", "jn_handler", {"mode": "reply", "reply": "已答复"})
    with runtime.unit_of_work() as uow:
        with pytest.raises(NotFound):  # another petitioner's item
            evaluations.own_petition(uow.session, province.actor("petitioner_li"), petition.id)
        mine = evaluations.own_petition(uow.session, province.actor("petitioner"), petition.id)
        with pytest.raises(InvalidData, match="评价填写有误"):
            evaluations.evaluate(uow.session, mine, "dissatisfied", "satisfied")  # no reason
        evaluations.evaluate(uow.session, mine, "dissatisfied", "fairly", "unsolved", "仍未解决")
        uow.commit()
    with runtime.unit_of_work() as uow:
        [intake_case] = province.cases(petition.number)
        code = intake_case.query_code
        with pytest.raises(NotFound, match="姓名或查询码不正确"):
            evaluations.by_query_code(uow.session, "李四", code)
        found = evaluations.by_query_code(uow.session, "张 三", code)
        evaluations.evaluate(uow.session, found, "satisfied", "satisfied")
        uow.commit()
    with runtime.unit_of_work() as uow:
        with pytest.raises(Conflict, match="最多只能评价两次"):
            evaluations.evaluate(uow.session, evaluations.own_petition(uow.session, province.actor("petitioner"),
                                                                        petition.id), "satisfied", "satisfied")
        assert [e.seq for e in uow.session.scalars(select(Evaluation).order_by(Evaluation.seq))] == [1, 2]


def test_an_item_out_of_scope_cannot_be_evaluated(runtime, province):
    petition = province.complaint()
    province.register(petition.number, purpose="suggestion", in_scope=False)
    province.do(petition.number, "handle", "jn_handler", {"mode": "reply", "reply": "已答复"})
    with runtime.unit_of_work() as uow, pytest.raises(Conflict, match="不在满意度评价范围内"):
        evaluations.evaluate(uow.session, evaluations.own_petition(uow.session, province.actor("petitioner"),
                                                                    petition.id), "satisfied", "satisfied")


def test_a_letter_is_registered_by_a_registrar_of_the_office_with_a_valid_id_number(runtime, province):
    letter = {"name": "王五", "id_number": "370102198001010011", "phone": "13800000000",
              "address": "历下区文化路 1 号", "title": "来信反映噪音扰民", "place_region": "370102",
              "place_address": "文化路 1 号", "content": "夜间施工"}
    engine, jn = runtime.engine, province.orgs["jn-xfj"]
    with runtime.unit_of_work() as uow, pytest.raises(InvalidData, match="校验位"):
        intake.register_letter(uow, engine, province.actor("jn_registrar"), jn.id, letter, {})
    letter["id_number"] = "370102198001010010"[:17]
    from services.platform.id_number import check_digit
    letter["id_number"] += check_digit(letter["id_number"])
    with runtime.unit_of_work() as uow, pytest.raises(Forbidden):
        intake.register_letter(uow, engine, province.actor("jn_handler"), jn.id, letter, {})
    with runtime.unit_of_work() as uow:
        petition = intake.register_letter(uow, engine, province.actor("jn_registrar"), jn.id, letter, {})
        uow.commit()
    assert petition.number.startswith("XFL370100") and petition.form == "letter"
    province.register(petition.number, purpose="demand")
    assert province.task(petition.number, "handle").organisation_id == jn.id


def test_withdrawal_races_the_registrars_opening_and_exactly_one_wins(runtime, province):
    from tests.processes.test_return_and_withdraw import race

    petitioner, registrar = province.actor("petitioner"), province.actor("jn_registrar")
    for attempt in range(4):
        petition = province.complaint(title=f"第 {attempt} 件")
        step = province.task(petition.number, "register").id
        results = race(runtime, withdraw=lambda uow, p=petition: applicant_actions.withdraw(
            uow, runtime.engine, petitioner, p.intake_instance_id, ""),
            open=lambda uow, s=step: runtime.engine.claim(uow, s, registrar))
        assert sorted(results.values()) == ["refused", "won"], (attempt, results)
        status = province.petition(petition.number).status
        assert status == ("withdrawn" if results["withdraw"] == "won" else "submitted"), (attempt, results)


def answered_at_county(province, title: str = "工伤认定争议"):
    """An item the county answered, and the petitioner's request against that answer, registered at the
    city and linked to the same matter."""
    first = province.complaint(title=title, bureau="lx-xfj")
    province.register(first.number, who="lx_handler")
    province.do(first.number, "handle", "lx_handler", {"mode": "reply", "reply": "维持原认定"})
    request = province.complaint(title=f"{title}（请求复查）")
    row = province.task(request.number, "register")
    with province.runtime.unit_of_work() as uow:
        intake.link(uow, province.actor("jn_registrar"), row.id, "matter", first.id)
        uow.commit()
    province.register(request.number, in_scope=False)
    return first, request


def test_a_recheck_runs_at_the_upper_office_with_the_original_office_answering_its_defence(runtime, province):
    first, request = answered_at_county(province)
    with pytest.raises(InvalidData, match="尚未复查办结"):
        province.do(request.number, "handle", "jn_handler", {"mode": "submit_final"})
    province.do(request.number, "handle", "jn_handler", {"mode": "submit_recheck"})
    review = province.cases(request.number)[-1]
    assert review.process_key == "xf_review" and review.organisation_id == province.orgs["jn-xfj"].id
    assert province.petition(request.number).status == "in_review"
    with pytest.raises(InvalidData, match="信访件处理岗"):
        province.do(request.number, "assign_handler", "jn_leader", {"review_handler": "lx_handler"})
    province.do(request.number, "assign_handler", "jn_leader", {"review_handler": "jn_handler"})
    assert province.task(request.number, "accept_form").assignee == "jn_handler"
    province.do(request.number, "accept_form", "jn_handler", {"decision": "correct"})
    assert province.cases(request.number)[-1].clock_state == "paused"  # 补正 does not count
    province.do(request.number, "correction", "jn_handler", {"conclusion": "已补交劳动合同"})
    province.do(request.number, "accept_form", "jn_handler", {"decision": "accept"})
    defence = province.task(request.number, "defence")
    assert defence.organisation_id == province.orgs["lx-xfj"].id  # the county answers
    with pytest.raises(Forbidden):  # the reviewing office sees the step, only the county does it
        province.do(request.number, "defence", "jn_handler", {"defence": "x"})
    province.do(request.number, "defence", "lx_handler", {"defence": "原认定事实清楚"})
    province.do(request.number, "investigate", "jn_handler", {"activities": ["written"], "findings": "x",
                                                              "decision": "hearing"})
    assert province.cases(request.number)[-1].clock_state == "paused"  # a hearing does not count either
    province.do(request.number, "hearing", "jn_handler", {"held_on": "2026-12-10", "conclusion": "双方陈述"})
    province.do(request.number, "investigate", "jn_handler", {"findings": "核实", "decision": "draft"})
    province.do(request.number, "draft", "jn_handler", {"result": "uphold", "opinion": "维持原处理意见",
                                                        "leader_username": "jn_leader"})
    province.do(request.number, "sign_off", "jn_leader", {"decision": "approve"})
    province.do(request.number, "serve", "jn_handler", {"served_on": "2026-12-12", "service_method": "direct"})
    review = province.cases(request.number)[-1]
    assert review.status == InstanceStatus.COMPLETED and review.clock_state == "stopped"
    answered = province.petition(request.number)
    assert answered.status == "replied" and answered.reply == "维持原处理意见"
    with runtime.unit_of_work() as uow:
        kinds = [d.number for d in uow.session.scalars(select(documents.CaseDocument)
                                                        .where(documents.CaseDocument.instance_id == review.id))]
        assert len(kinds) == 1 and "信复告字" in kinds[0]
        from services.petitions.models import PetitionMatter
        assert uow.session.get(PetitionMatter, answered.matter_id).stage == "recheck_done"


def test_a_request_for_review_needs_a_linked_answered_matter(runtime, province):
    alone = province.complaint()
    province.register(alone.number)
    with pytest.raises(InvalidData, match="判重关联"):
        province.do(alone.number, "handle", "jn_handler", {"mode": "submit_recheck"})


def test_a_visit_is_interviewed_by_the_chosen_interviewer_then_handled(runtime, province):
    with pytest.raises(InvalidData, match="接谈人"):
        province.visit(interviewer="lx_handler")  # not one of the office's interviewers
    petition, warnings = province.visit(visitors=6)
    assert warnings == [intake.TOO_MANY_VISITORS]  # a warning: the reception still happens
    assert petition.number.startswith("XFV370100") and petition.visitors == 6
    province.register(petition.number)
    interview = province.task(petition.number, "interview")
    assert interview.assignee == "jn_interviewer"
    with pytest.raises(Forbidden):
        province.do(petition.number, "interview", "jn_registrar", {"interview_notes": "x"})
    province.do(petition.number, "interview", "jn_interviewer", {"interview_notes": "已详细了解补偿情况",
                                                                  "content": "补偿标准低于同片区"})
    assert province.petition(petition.number).content == "补偿标准低于同片区"
    assert [m for m, _ in records(runtime, petition.id)] == ["interview"]
    assert province.task(petition.number, "handle").organisation_id == province.orgs["jn-xfj"].id


def test_a_leader_receives_visitors_in_person(runtime, province):
    petition, _warnings = province.visit(interviewer="jn_leader")  # 领导公开接访
    province.register(petition.number)
    assert province.task(petition.number, "interview").assignee == "jn_leader"
    province.do(petition.number, "interview", "jn_leader", {"interview_notes": "领导当面听取诉求"})


def test_batch_transfer_needs_one_destination_and_handles_each_item_alone(runtime, province):
    from services.petitions import batches

    at_lixia = [province.complaint(title=f"历下 {n}") for n in range(3)]
    at_shizhong = province.complaint(title="市中", place="370103")
    for petition in [*at_lixia, at_shizhong]:
        province.register(petition.number)
    handler = province.actor("jn_handler")
    tasks = {p.number: province.task(p.number, "handle").id for p in [*at_lixia, at_shizhong]}
    with pytest.raises(InvalidData, match="去向机构不一致"):
        batches.forward(runtime.unit_of_work, runtime.engine, handler, list(tasks.values()), "transfer", "")
    with pytest.raises(InvalidData, match="至少勾选两件"):
        batches.forward(runtime.unit_of_work, runtime.engine, handler, [tasks[at_lixia[0].number]], "transfer", "")
    # one item is handled on its own meanwhile (存): only it fails, the others go
    province.do(at_lixia[2].number, "handle", "jn_handler", {"mode": "file"})
    outcomes = batches.forward(runtime.unit_of_work, runtime.engine, handler,
                               [tasks[p.number] for p in at_lixia], "assign", "请核实", 20)
    assert [o.ok for o in outcomes] == [True, True, False] and "已办理" in outcomes[2].message
    for petition in at_lixia[:2]:
        assert province.petition(petition.number).responsible_org_id == province.orgs["lx-xfj"].id
        assert province.cases(petition.number)[-1].organisation_id == province.orgs["lx-xfj"].id
    assert province.petition(at_lixia[2].number).status == "filed"


def test_overdue_steps_at_an_office_remind_the_holders_of_the_post_there(runtime, province):
    from datetime import timedelta

    from services.platform import notifications, reminders

    petition = province.complaint()
    row = province.task(petition.number, "register")
    with runtime.unit_of_work() as uow:
        reminders.send(uow, runtime.notifier, reminders.OVERDUE, [row.id], row.due_at + timedelta(days=1))
        uow.commit()
    with runtime.unit_of_work() as uow:
        told = {n.recipient for n in uow.session.scalars(select(notifications.Notification))}
    assert "jn_registrar" in told and "lx_handler" not in told  # the county's registrar is another office


@pytest.mark.parametrize("mode", ["transfer", "assign"])
def test_the_sender_recalls_an_item_until_the_destination_begins(runtime, province, mode):
    from services.petitions import actions

    petition = province.complaint()
    province.register(petition.number)
    province.do(petition.number, "handle", "jn_handler",
                {"mode": mode, "destination": str(province.orgs["lx-xfj"].id)})
    child = province.cases(petition.number)[-1]
    with runtime.unit_of_work() as uow, pytest.raises(Forbidden):  # not the sender's handler
        actions.recall(uow, runtime.engine, province.actor("lx_handler"), petition.id, "")
    with runtime.unit_of_work() as uow:
        actions.recall(uow, runtime.engine, province.actor("jn_handler"), petition.id, "去向选错")
        uow.commit()
    cases = {c.id: c for c in province.cases(petition.number)}
    assert cases[child.id].status == InstanceStatus.TERMINATED and cases[child.id].case_status == "withdrawn"
    again = province.task(petition.number, "handle")  # back at the city, straight to 办理
    assert again.organisation_id == province.orgs["jn-xfj"].id
    assert province.petition(petition.number).responsible_org_id == province.orgs["jn-xfj"].id
    # sent again, and this time the county signs for it: no more 收回
    province.do(petition.number, "handle", "jn_handler",
                {"mode": mode, "destination": str(province.orgs["lx-xfj"].id)})
    province.do(petition.number, "receive", "lx_receiver", {"decision": "sign"})
    with runtime.unit_of_work() as uow, pytest.raises((Conflict, NotFound)):
        actions.recall(uow, runtime.engine, province.actor("jn_handler"), petition.id, "")


def test_a_leader_extends_self_handling_once_by_at_most_thirty_days(runtime, province):
    from services.petitions import actions

    petition = province.complaint()
    province.register(petition.number)
    province.do(petition.number, "handle", "jn_handler", {"mode": "notice_accept"})
    province.do(petition.number, "handle", "jn_handler", {"mode": "self"})
    step = province.task(petition.number, "self_handle")
    with runtime.unit_of_work() as uow, pytest.raises(Forbidden):
        actions.extend(uow, runtime.engine, province.actor("jn_handler"), step.id, 10, "情况复杂")
    with runtime.unit_of_work() as uow, pytest.raises(InvalidData, match="不能超过 30 日"):
        actions.extend(uow, runtime.engine, province.actor("jn_leader"), step.id, 31, "情况复杂")
    with runtime.unit_of_work() as uow:
        actions.extend(uow, runtime.engine, province.actor("jn_leader"), step.id, 30, "需要调查取证")
        uow.commit()
    assert (province.task(petition.number, "self_handle").due_at - step.due_at).days == 30
    with runtime.unit_of_work() as uow, pytest.raises(Conflict, match="只能延期一次"):
        actions.extend(uow, runtime.engine, province.actor("jn_leader"), step.id, 5, "再延")
    assert "extend" in [m for m, _ in records(runtime, petition.id)]


def test_the_petition_search_filters_by_handling_destination_and_lateness_within_the_users_regions(
        runtime, province):
    from services.platform import queries

    transferred = province.complaint(title="转走的")
    province.register(transferred.number)
    province.do(transferred.number, "handle", "jn_handler",
                {"mode": "transfer", "destination": str(province.orgs["lx-xfj"].id)})
    elsewhere = province.complaint(title="市中的", place="370103")
    with runtime.unit_of_work() as uow:
        def numbers(who: str, **filters: str) -> list[str]:
            rows, _total = queries.run(uow.session, province.actor(who), "xf-petitions", filters)
            return [row["number"] for row in rows]

        assert numbers("jn_handler", mode="transfer") == [transferred.number]
        assert numbers("jn_handler", destination="历下") == [transferred.number]
        assert set(numbers("jn_handler", overdue="false")) == {transferred.number, elsewhere.number}
        assert numbers("jn_handler", overdue="true") == []
        assert numbers("lx_handler") == [transferred.number]  # 历下区 staff: items of 历下区 only
        indicators, _ = queries.run(uow.session, province.actor("jn_handler"), "xf-indicators", {})
        assert {row["region_code"]: row["online"] for row in indicators} == {"370102": 1, "370103": 1}


def test_a_leader_of_the_reviewing_office_suspends_resumes_and_terminates_a_review(runtime, province):
    from services.petitions import reviews

    _first, request = answered_at_county(province, "社保待遇争议")
    province.do(request.number, "handle", "jn_handler", {"mode": "submit_recheck"})
    province.do(request.number, "assign_handler", "jn_leader", {"review_handler": "jn_handler"})
    province.do(request.number, "accept_form", "jn_handler", {"decision": "accept"})
    review = province.cases(request.number)[-1]
    with runtime.unit_of_work() as uow, pytest.raises(Forbidden):
        reviews.suspend(uow, runtime.engine, province.actor("jn_handler"), review.id, "等待司法鉴定")
    with runtime.unit_of_work() as uow, pytest.raises(InvalidData, match="中止原因"):
        reviews.suspend(uow, runtime.engine, province.actor("jn_leader"), review.id, " ")
    with runtime.unit_of_work() as uow:
        reviews.suspend(uow, runtime.engine, province.actor("jn_leader"), review.id, "等待司法鉴定")
        uow.commit()
    assert province.cases(request.number)[-1].clock_state == "paused"
    with runtime.unit_of_work() as uow:
        reviews.resume(uow, runtime.engine, province.actor("jn_leader"), review.id)
        uow.commit()
    assert province.cases(request.number)[-1].clock_state == "running"
    with runtime.unit_of_work() as uow:
        reviews.terminate(uow, runtime.engine, province.actor("jn_leader"), review.id, "信访人撤回复查请求")
        uow.commit()
    assert province.cases(request.number)[-1].status == InstanceStatus.TERMINATED
    answered = province.petition(request.number)
    assert answered.status == "replied" and "信访人撤回复查请求" in answered.reply


def test_an_interviewer_sends_the_interview_to_another_interviewer(runtime, province):
    petition, _warnings = province.visit()
    province.register(petition.number)
    step = province.task(petition.number, "interview")
    with runtime.unit_of_work() as uow, pytest.raises(InvalidData):  # 发送 only to another 接谈岗 of the office
        runtime.engine.delegate(uow, step.id, province.actor("jn_interviewer"), province.actor("jn_handler"))
    with runtime.unit_of_work() as uow:  # 发送 = 转交同事
        runtime.engine.delegate(uow, step.id, province.actor("jn_interviewer"), province.actor("jn_interviewer2"))
        uow.commit()
    province.do(petition.number, "interview", "jn_interviewer2", {"interview_notes": "已接谈"})
    assert province.task(petition.number, "handle").organisation_id == province.orgs["jn-xfj"].id


def test_a_running_case_moves_to_another_organisation_and_its_steps_follow(runtime, province):
    petition = province.complaint()
    [case] = province.cases(petition.number)
    lx = province.orgs["lx-xfj"]
    with runtime.unit_of_work() as uow:
        runtime.engine.claim(uow, province.task(petition.number, "register").id, province.actor("jn_registrar"))
        runtime.engine.move_to_organisation(uow, case.id, lx.id, lx.region_code, province.actor("jn_registrar"),
                                            "属地办理")
        uow.commit()
    [moved] = province.cases(petition.number)
    step = province.task(petition.number, "register")
    assert (moved.organisation_id, moved.region_code) == (lx.id, "370102")
    assert (step.organisation_id, step.region_code, step.assignee) == (lx.id, "370102", None)
    with runtime.unit_of_work() as uow, pytest.raises(Forbidden):  # the city reads it, no longer takes it
        runtime.engine.claim(uow, step.id, province.actor("jn_registrar"))
    province.register(petition.number, who="lx_handler")  # 历下 holds 登记岗 there
