"""Reason codes in Chinese and English, for explaining a decision to staff and customers."""

from __future__ import annotations

from typing import Any

from domain import acceptance, admission
from domain.refusals import Refusal

_TEXTS: dict[str, tuple[str, str]] = {
    "AUTO_WITHIN_RULES": ("符合自动审批规则,自动批准", "within the rules for automatic approval"),
    "AMOUNT_OVER_MODEL_LIMIT": ("申请金额超过评级模型测算的额度", "the amount exceeds the limit the rating model gives"),
    "GRADE_NEEDS_REVIEW": ("信用等级不在自动审批范围内,需人工审批", "the credit grade is not one the rules approve on their own"),
    "AMOUNT_OVER_AUTO_LIMIT": ("申请金额超过自动审批上限", "the amount exceeds the automatic approval ceiling"),
    "GRADE_TOO_LOW": ("信用等级过低(C级)", "credit grade too low (C)"),
    "PREFILTER_BLACKLIST": ("命中黑名单", "on the blacklist"),
    "PREFILTER_CURRENT_OVERDUE": ("存在当前逾期", "currently overdue elsewhere"),
    "CUSTOMER_RISK": ("客户已列入黑名单或存在当前逾期,暂停支用", "the customer is blacklisted or overdue: no drawdown"),
    "RULE_EVALUATION_FAILED": ("规则执行出错,未能作出决定", "the rule set failed while deciding"),
}
POLICY_TAGS_ZH = {"credit_village": "信用村"}
CUSTOMER_TYPES_ZH = {"farmer": "农户", "individual_business": "个体工商户", "salaried": "工薪人员"}
OUTCOMES: dict[str, tuple[str, str]] = {
    "approve": ("自动批准", "approved by the rules"),
    "manual_review": ("转人工审批", "sent to an approver"),
    "reject": ("拒绝", "refused"),
    "accept": ("受理", "accepted"),
    "admit": ("准入", "admitted"),
    "allow": ("准予支用", "drawdown allowed"),
    "priced": ("已定价", "priced"),
    "refuse": ("不予支用", "drawdown refused"),
    "error": ("规则出错", "the rules failed"),
}
SCENARIOS: dict[str, tuple[str, str]] = {
    "admission": ("准入", "admission"), "acceptance": ("受理", "acceptance"), "approval": ("审批", "approval"),
    "drawdown": ("支用", "drawdown"), "pricing": ("定价", "pricing"),
}


def explain(code: str, facts: dict[str, Any]) -> Refusal:
    """A reason code with its text; acceptance codes quote the product's figures from the recorded facts."""
    if code.startswith("GRADE_") and code != "GRADE_TOO_LOW" and code != "GRADE_NEEDS_REVIEW":
        return Refusal(code=code, zh=f"信用等级 {code[6:]} 利率调整", en=f"rate adjustment for credit grade {code[6:]}")
    if code == "STARS_NONE":
        return Refusal(code=code, zh="未评定贡献度星级,不作调整", en="no contribution rating: no adjustment")
    if code.startswith("STARS_"):
        stars = code[6:]
        if stars == "0":
            return Refusal(code=code, zh="贡献度无星级", en="contribution: no star")
        return Refusal(code=code, zh=f"贡献度{stars}星利率调整", en=f"rate adjustment for {stars} contribution stars")
    if code.startswith("TAG_"):
        tag = code[4:].lower()
        zh = POLICY_TAGS_ZH.get(tag, tag)
        return Refusal(code=code, zh=f"政策标签「{zh}」利率调整", en=f"rate adjustment for the policy tag {tag}")
    if code.startswith("TYPE_"):
        kind = code[5:].lower()
        return Refusal(code=code, zh=f"客户类型「{CUSTOMER_TYPES_ZH.get(kind, kind)}」利率调整",
                       en=f"rate adjustment for customer type {kind}")
    if code in _TEXTS:
        zh, en = _TEXTS[code]
        return Refusal(code=code, zh=zh, en=en)
    return admission.refusal(code, facts) or acceptance.refusal(code, facts)
