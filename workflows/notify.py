"""SMS from workflows, best effort: a text that cannot be delivered (the gateway refused the number, or
was down for the whole retry budget) is logged and the loan carries on. A loan must never fail, or
hang, because a customer could not be told about it; the read model and the API still show its state."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.notifications import NotificationActivities
    from workflows import policies
    from workflows.messages import SmsRequest


async def send_sms(*, idempotency_key: str, customer_id: int, template: str, params: dict[str, str]) -> bool:
    try:
        await workflow.execute_activity_method(
            NotificationActivities.send_sms,
            SmsRequest(idempotency_key=idempotency_key, customer_id=customer_id, template=template, params=params),
            **policies.SMS.kwargs())
    except ActivityError as err:
        workflow.logger.warning("SMS %s not delivered (%s); carrying on", template, type(err.cause).__name__)
        return False
    return True
