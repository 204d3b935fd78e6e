"""The words of the human-resources market system that its data carries and the pages translate:
its applicant role, code tables (许可事项, 机构类型), statuses and audit actions."""
from __future__ import annotations

ROLES = {"hr_org": "人力资源服务机构经办人"}
APPLICANT_ROLES = frozenset({"hr_org"})
# 许可事项 (职业中介活动), 人力资源服务机构管理规定 §5
LICENCE_ITEMS = {
    "recommend_workers": "为用人单位推荐劳动者",
    "introduce_employers": "为劳动者介绍用人单位",
    "job_fairs": "组织开展招聘会",
    "online_recruitment": "开展网络招聘服务",
    "headhunting": "开展高级人才寻访（猎头）服务",
}
# 备案事项, 人力资源市场暂行条例 §18
FILING_ITEMS = {
    "supply_demand_info": "人力资源供求信息的收集和发布",
    "career_guidance": "就业和创业指导",
    "management_consulting": "人力资源管理咨询",
    "assessment": "人力资源测评",
    "training": "人力资源培训",
    "outsourcing": "承接人力资源服务外包",
}
ORGANISATION_KINDS = {"enterprise": "企业", "institution": "事业单位", "social": "社会组织", "branch": "分支机构"}
ORGANISATION_STATUSES = {"active": "在册", "cancelled": "已注销"}
LICENCE_STATUSES = {"active": "有效", "cancelled": "已注销"}
CANCEL_MODES = {"application": "主动申请", "authority": "行政机关注销"}
CANCEL_REASONS = {"revoked": "依法撤销", "withdrawn": "吊销", "expired": "有效期届满未延续", "terminated": "机构终止",
                  "other": "其他"}
# 变更类型 (003 §2.7: 机构名称、法定代表人、办公地址、其他（机构类型、行政许可事项、业务备案事项）)
CHANGE_TYPES = {"name": "机构名称", "legal_representative": "法定代表人", "address": "住所（办公地址）",
                "kind": "机构类型", "licence_items": "行政许可事项", "filing_items": "业务备案事项"}
REPORT_STATUSES = {"submitted": "待查阅", "returned": "退回", "approved": "通过"}
SOURCES = {"staff": "人社端添加", "history": "历史导入", "application": "申请"}
AUDIT_ACTIONS = {
    "hr_organisation.create": "新增人力资源服务机构",
    "hr_organisation.update": "修改人力资源服务机构",
    "hr_organisation.delete": "删除人力资源服务机构",
    "hr_organisation.import": "历史数据采集（批量导入机构、许可、备案）",
    "hr_licence.cancel": "注销单位行政许可",
    "hr_annual_report.reopen": "年度报告退回重填",
}
PROCESS_NAMES = ("人力资源服务许可", "人力资源服务业务备案", "人力资源服务机构年度报告", "人力资源服务机构事项变更",
                 "设立分支机构报告", "人力资源服务许可和备案注销")
LABELS = tuple(dict.fromkeys([*ROLES.values(), *LICENCE_ITEMS.values(), *FILING_ITEMS.values(),
                              *ORGANISATION_KINDS.values(), *ORGANISATION_STATUSES.values(),
                              *LICENCE_STATUSES.values(), *SOURCES.values(), *CANCEL_MODES.values(),
                              *REPORT_STATUSES.values(), *CANCEL_REASONS.values(), *CHANGE_TYPES.values(),
                              *PROCESS_NAMES]))


def items_text(codes: list[str], table: dict[str, str] = LICENCE_ITEMS) -> str:
    """许可事项 (or, with FILING_ITEMS, 备案事项) in words, in the code table's order, for documents and lists."""
    return "、".join(label for code, label in table.items() if code in codes)
