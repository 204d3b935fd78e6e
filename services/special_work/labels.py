"""The words of the special-work-type system that its data carries and the pages translate: roles,
audit actions, and the labels of kinds and statuses (the statuses themselves live beside the rules
that set them, in the use-case modules)."""
from __future__ import annotations

from services.platform import id_number
from services.special_work import attachments, declarations, early_retirement, enterprises, spot_checks

ROLES = {
    "enterprise": "单位经办人",
    "spot_checker": "抽查人员",
    "catalogue_admin": "名录管理人员",
}
APPLICANT_ROLES = frozenset({"enterprise"})
AUDIT_ACTIONS = {
    "enterprise.create": "新增单位",
    "enterprise.update": "修改单位信息",
    "enterprise.reset_password": "重置网厅密码",
    "enterprise.portal_open": "开启网厅权限",
    "enterprise.portal_close": "关闭网厅权限",
    "register.add_unfiled_person": "新增未备案人员",
    "register.add_person": "新增人员及从业经历",
    "register.add_work_histories": "新增从业经历",
    "spot_check.work_history.pass": "抽查从业经历：通过",
    "spot_check.work_history.fail": "抽查从业经历：不通过",
    "spot_check.early_retirement.pass": "抽查提前退休登记：通过",
    "spot_check.early_retirement.fail": "抽查提前退休登记：不通过",
    "catalogue.add": "新增工种",
    "catalogue.update": "修改工种",
    "catalogue.delete": "删除工种",
    "catalogue.activate": "启用工种",
    "catalogue.retire": "停用工种",
    "catalogue.nature_rule": "修改工作性质规则",
}
# the names of its processes (BPMN data), which 发起办件, 我的办件 and the case pages translate
PROCESS_NAMES = ("首次申报审核", "年度申报审核", "特殊工种申报审核（校验 → 初审 → 复核）", "特殊工种提前退休信息登记",
                 "特殊工种从业经历证明申请")
LABELS = tuple(dict.fromkeys([
    *declarations.KINDS.values(), *declarations.STATUS_LABELS.values(), *declarations.PERSON_STATUS_LABELS.values(),
    *attachments.KINDS.values(), *enterprises.REQUIRED.values(), *spot_checks.RESULTS.values(),
    *early_retirement.STATUS_LABELS.values(), *PROCESS_NAMES, *declarations.FINDINGS.values(),
    *declarations.PERSON_FINDINGS, *id_number.PROBLEMS]))
