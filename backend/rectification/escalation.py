"""Escalation of overdue rectifications along the agreement ladder (处理措施).

The ladder follows the service-agreement track of the national measures: 《零售药店医疗保障定点
管理暂行办法》(国家医保局令第3号) 第三十五条 for retail pharmacies, and 《医疗机构医疗保障定点
管理暂行办法》(国家医保局令第2号) 第三十八条 for medical institutions (its numbering per the
research notes in ``shared/domain``), with 中止 and 解除 in their own articles. A supervisor
records a step against a notice; 中止协议 sets the institution's agreement status to suspended
and 解除协议 to terminated, in the same transaction, so inspectors see it in their next bundle.

Steps may be recorded in any order (a serious case may go straight to 中止), but nothing can be
recorded after 解除协议: the agreement no longer exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from backend.accounts.auth import CurrentUser, now
from backend.audit.services import record
from backend.db import write_transaction
from backend.errors import Conflict, InvalidInput
from backend.institutions import services as institutions
from backend.institutions.tables import AgreementStatus, Institution, InstitutionType
from backend.rectification import deadlines
from backend.rectification.access import visible_notice
from backend.rectification.events import EventActor, add_event
from backend.rectification.notify import Notification, notify
from backend.rectification.tables import (
    Escalation,
    NoticeStatus,
    RectificationNotice,
    RectificationTask,
)
from backend.rectification.tasks import days_overdue

O3 = "《零售药店医疗保障定点管理暂行办法》"
O2 = "《医疗机构医疗保障定点管理暂行办法》"


@dataclass(frozen=True)
class Step:
    """One rung of the ladder."""

    code: str
    label: str
    pharmacy_rule: str
    medical_rule: str
    agreement_status: AgreementStatus | None = None  # what the institution's status becomes
    takes_amount: bool = False

    def rule_for(self, institution_type: str) -> str:
        """The rule reference for this kind of institution."""
        if institution_type == InstitutionType.pharmacy.value:
            return self.pharmacy_rule
        return self.medical_rule


LADDER: tuple[Step, ...] = (
    Step("interview", "约谈", f"{O3}第三十五条第（一）项", f"{O2}第三十八条第（一）项"),
    Step(
        "suspend_settlement",
        "暂停结算",
        f"{O3}第三十五条第（二）项",
        f"{O2}第三十八条第（二）项",
    ),
    Step(
        "recover_funds",
        "追回费用",
        f"{O3}第三十五条第（二）项",
        f"{O2}第三十八条第（三）项",
        takes_amount=True,
    ),
    Step(
        "penalty",
        "支付违约金",
        f"{O3}第三十五条第（三）项",
        f"{O2}第三十八条第（四）项",
        takes_amount=True,
    ),
    Step(
        "suspend_agreement",
        "中止协议",
        f"{O3}第三十五条第（四）项、第三十九条",
        f"{O2}第三十八条第（六）项",
        agreement_status=AgreementStatus.suspended,
    ),
    Step(
        "terminate_agreement",
        "解除协议",
        f"{O3}第三十五条第（四）项、第四十条",
        f"{O2}第三十八条第（六）项、第四十三条",
        agreement_status=AgreementStatus.terminated,
    ),
)
STEPS = {step.code: step for step in LADDER}


def parse_step(code: str) -> Step:
    """The ladder step named ``code``.

    Raises:
        InvalidInput: no such step.
    """
    step = STEPS.get(code)
    if step is None:
        allowed = "、".join(f"{s.code}（{s.label}）" for s in LADDER)
        raise InvalidInput(f"处理措施 {code!r} 无效，可选：{allowed}", details={"field": "step"})
    return step


async def escalate(
    user: CurrentUser,
    notice_id: UUID,
    step_code: str,
    *,
    note: str = "",
    amount: Decimal | None = None,
    rule_reference: str | None = None,
    decided_on: date | None = None,
    document_no: str = "",
) -> dict[str, Any]:
    """Record one escalation step against an issued notice; 中止/解除 change the institution's
    agreement status in the same transaction.

    Args:
        user: the supervisor.
        notice_id: the notice whose tasks are not done.
        step_code: a :data:`LADDER` code.
        note: what was decided (shown to the manager).
        amount: yuan, for 追回费用 and 支付违约金 only.
        rule_reference: overrides the ladder's reference (e.g. a clause of the local agreement).
        decided_on: the day the measure was decided (default: today in China; not in the future).
        document_no: the number of the measure's document (约谈通知书, 处理决定书…).

    Raises:
        NotFound: not a notice of the supervisor's region.
        Conflict: the notice is a draft or closed, or the agreement is already terminated.
        InvalidInput: unknown step, an amount where none belongs, a bad amount, a long text.
    """
    step = parse_step(step_code)
    text = (note or "").strip()
    if len(text) > 2000:
        raise InvalidInput("处理说明不能超过 2000 个字", details={"field": "note"})
    if amount is not None and not step.takes_amount:
        raise InvalidInput(f"{step.label}不涉及金额", details={"field": "amount"})
    if amount is not None and not (Decimal(0) < amount < Decimal("10000000000")):
        raise InvalidInput("金额须大于 0", details={"field": "amount"})
    reference = (rule_reference or "").strip()
    if len(reference) > 256:
        raise InvalidInput("依据不能超过 256 个字", details={"field": "rule_reference"})
    document = (document_no or "").strip()
    if len(document) > 64:
        raise InvalidInput("文书编号不能超过 64 个字", details={"field": "document_no"})
    today = deadlines.today_in_china()
    if decided_on is not None and decided_on > today:
        raise InvalidInput("决定日期不能晚于今天", details={"field": "decided_on"})

    async with write_transaction():
        notice = await visible_notice(user, notice_id, lock=True)
        if notice["status"] == NoticeStatus.draft.value:
            raise Conflict("通知书尚未签发，不能采取处理措施")
        if notice["status"] == NoticeStatus.closed.value:
            raise Conflict("整改通知书已办结，不能再采取处理措施")
        institution = (
            await Institution.select(Institution.type, Institution.agreement_status)
            .where(Institution.id == notice["institution"])
            .first()
        )
        assert institution is not None
        if institution["agreement_status"] == AgreementStatus.terminated.value:
            raise Conflict("该机构的医保协议已解除，不能再采取处理措施")
        tasks = await RectificationTask.select().where(RectificationTask.notice == notice_id)
        overdue = [days_overdue(t, today) for t in tasks if days_overdue(t, today) > 0]
        reference = reference or step.rule_for(institution["type"])
        before = institution["agreement_status"]
        after = before
        if step.agreement_status is not None:
            reason = f"{notice['number']} 逾期未整改，{step.label}" + (f"：{text}" if text else "")
            row = await institutions.set_agreement_status(
                notice["institution"], step.agreement_status.value, user.actor, reason[:500]
            )
            after = row["agreement_status"]
        at = now()
        escalation = Escalation(
            notice=notice_id,
            institution=notice["institution"],
            step=step.code,
            rule_reference=reference,
            note=text,
            amount=amount,
            decided_on=decided_on or today,
            document_no=document,
            overdue_tasks=len(overdue),
            max_days_overdue=max(overdue, default=0),
            agreement_before=before,
            agreement_after=after,
            decided_by=user.id,
            created_at=at,
        )
        await escalation.save()
        await RectificationNotice.update({RectificationNotice.updated_at: at}).where(
            RectificationNotice.id == notice_id
        )
        amount_text = f"，金额 {amount} 元" if amount is not None else ""
        document_text = f"，文书 {document}" if document else ""
        await add_event(
            notice_id,
            "escalation",
            EventActor.of(user),
            text=f"{step.label}（依据：{reference}）{document_text}{amount_text}"
            + (f"。{text}" if text else ""),
            at=at,
        )
        await record(
            user.actor,
            "rectification_notice.escalate",
            "rectification_notice",
            notice_id,
            after={
                "escalation": str(escalation.id),
                "step": step.code,
                "rule_reference": reference,
                "amount": amount,
                "decided_on": decided_on or today,
                "document_no": document,
                "overdue_tasks": len(overdue),
                "agreement_status": [before, after],
            },
        )
    await notify(
        Notification(
            kind="notice.escalated",
            institution_id=notice["institution"],
            notice_id=notice_id,
            notice_number=notice["number"],
            audience=("manager",),
            message=f"{notice['number']}：医保部门已采取处理措施「{step.label}」。",
        )
    )
    row = await Escalation.select().where(Escalation.id == escalation.id).first()
    assert row is not None
    return row
