"""The words of the petition system that its data carries and the pages translate: posts, code
tables (信访形式, 信访目的, 问题类别, 办理方式, 满意度 …) and statuses (requirements §B11, §B13)."""
from __future__ import annotations

# posts held at an organisation (services.platform.organisations), the lanes of the xf_ processes
ROLES = {
    "petitioner": "信访人",
    "xf_registrar": "登记岗",
    "xf_interviewer": "接谈岗",
    "xf_receiver": "收件岗",
    "xf_handler": "信访件处理岗",
    "xf_staff": "信访工作人员",  # a region grant: reads the region's items (查询统计), handles nothing
}
APPLICANT_ROLES = frozenset({"petitioner"})
BUREAU = "xf_bureau"  # organisation kind: 信访部门
DEPARTMENT = "department"  # 职能部门 (直属单位)
ORGANISATION_KINDS = {BUREAU: "信访部门", DEPARTMENT: "职能部门"}
FORMS = {"online": "网上信访", "letter": "来信", "visit": "来访"}
ID_TYPES = {"id_card": "居民身份证", "passport": "护照", "hk_macao": "港澳居民来往内地通行证",
            "taiwan": "台湾居民来往大陆通行证", "other": "其他"}
GENDERS = {"male": "男", "female": "女"}
PURPOSES = {"demand": "求决", "appeal": "申诉", "suggestion": "建议意见", "accusation": "揭发控告",
            "consultation": "咨询", "other": "其他"}
SEEKING = "demand"  # 求决类 (§B5)
CATEGORIES = {"land": "城乡建设", "labour": "劳动社保", "agriculture": "农村农业", "law": "政法",
              "environment": "环境保护", "health": "卫生健康", "education": "教育文体", "other": "其他"}
MODES = {
    "transfer": "转送", "assign": "交办", "notice_accept": "受理告知", "notice_refuse": "不予受理告知",
    "notice_no_more": "不再受理告知", "self": "自办", "file": "存", "reply": "直接回复", "report": "报告",
    "submit_review": "送审", "return": "退回", "receive": "收件", "accept_report": "汇报审阅通过",
    "return_report": "汇报审阅退回", "submit_recheck": "提交复查", "submit_final": "提交复核",
    "defence_notice": "答辩通知", "review_served": "送达意见书", "interview": "接谈",
    "recall": "收回", "extend": "延期", "review_terminated": "复查复核终止",
}
SIMPLE_KINDS = {"unclear": "内容不清信", "repeat": "重信", "other_province": "转外省", "law": "涉法涉诉信",
                "final": "三级终结信"}
SIMPLE_MODES = {"file": "存", "forward": "转出", "return": "退信"}
REVIEW_LEVELS = {"recheck": "复查", "final": "复核"}
REVIEW_RESULTS = {"uphold": "维持", "revoke": "撤销", "change": "变更"}
MATTER_STAGES = {"": "", "recheck_done": "复查办结", "final_done": "复核终结"}
STATUSES = {
    "submitted": "待处理", "withdrawn": "已撤回", "registered": "已登记", "transferred": "已转送",
    "assigned": "已交办", "reported": "已报告", "accepted": "已受理", "not_accepted": "不予受理",
    "not_reaccepted": "不再受理", "handling": "办理中", "replied": "已办结", "filed": "已存",
    "returned": "已退回", "in_review": "复查复核中",
}
# an item the petitioner may evaluate has reached one of these (处理完成)
ANSWERED = frozenset({"replied"})
LEVELS = {"satisfied": "满意", "fairly": "基本满意", "dissatisfied": "不满意"}
REASONS = {"unsolved": "未解决问题", "overdue": "办理超期", "attitude": "态度问题", "unclear": "答复不清",
           "other": "其他"}
# the decisions of the petition forms (their ``decision`` values), as the history shows them
DECISIONS = {"sign": "签收", "accept": "受理", "refuse": "不予受理", "hearing": "举行听证会", "draft": "拟定意见书"}
AUDIT_ACTIONS = {"xf_petition.link": "判重关联", "xf_simple.register": "来信简单登记",
                 "xf_petition.sms": "短信发送查询码"}
PROCESS_NAMES = ("网上信访登记", "来信登记", "来访登记", "信访件办理", "信访事项复查复核")
LABELS = tuple(dict.fromkeys([*ROLES.values(), *ORGANISATION_KINDS.values(), *FORMS.values(), *ID_TYPES.values(),
                              *GENDERS.values(), *PURPOSES.values(), *CATEGORIES.values(), *MODES.values(),
                              *STATUSES.values(), *LEVELS.values(), *REASONS.values(), *REVIEW_LEVELS.values(),
                              *SIMPLE_KINDS.values(), *SIMPLE_MODES.values(),
                              *REVIEW_RESULTS.values(), *MATTER_STAGES.values(), *PROCESS_NAMES]))
