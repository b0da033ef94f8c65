"""Writes to payments: the named functions the views (and later the API) go through.

    payment_start(*, case, step_id, by, callback_url) -> Payment
    payment_complete(*, token, status, reference, now=None) -> Payment

A payment attempt that starts while an earlier one for the same step is still `started`
SUPERSEDES it: the earlier one is marked failed ("superseded"). Bank tokens expire and a payer
who comes back later needs a fresh one, so reusing an old token would strand them. A superseded
attempt whose callback still arrives is verified like any other: if the bank did take the money
and the step was paid meanwhile, the confirmation fails and the money is reversed.

No audit rows here: the case's `paid` event (written by case_payment_confirmed) is the record.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pishkhan.cases.errors import CaseError
from pishkhan.cases.models import Case, Position, PositionState
from pishkhan.cases.selectors import case_definition, case_payment_due, case_visible_to
from pishkhan.cases.services import case_payment_confirmed
from pishkhan.offices.models import OfficeOperator

from .errors import PaymentError
from .gateways.base import GatewayError
from .gateways.registry import get_gateway
from .models import Payment, PaymentStatus

__all__ = ["PaymentError", "payment_complete", "payment_start"]

logger = logging.getLogger(__name__)

# The callback's `status` when the payer went through with it; anything else means cancelled.
CALLBACK_OK = "ok"


def payment_start(*, case: Case, step_id: str, by, callback_url: str) -> Payment:
    """Start paying the payment step `step_id` of `case` for `by` (the applicant, or an operator
    of the office that filed the case). Asks the configured gateway for a token for the amount
    due (case_payment_due) and returns the new `started` Payment; send the browser to
    `payment.redirect_url`. An earlier `started` attempt of the same step is superseded.

    Refused: a case `by` may not see (404 `not_found`), may see but not pay for (403
    `forbidden`), a step that is not an open payment step waiting for the applicant (409
    `not_payable`), nothing due (409 `nothing_due`), the gateway refusing (502 `gateway`; the
    attempt is kept as failed with the reason)."""
    if by is None or not getattr(by, "is_authenticated", False) or not case_visible_to(by, case):
        raise PaymentError("not_found", _("There is no such case."), 404)
    if not _pays_for(by, case):
        raise PaymentError(
            "forbidden", _("Only the applicant, or the office that filed the case, can pay for it."), 403
        )
    step = case_definition(case).step(step_id) if isinstance(step_id, str) else None
    waiting = Position.objects.filter(case=case, step_id=step_id, state=PositionState.WITH_CITIZEN).exists()
    if step is None or step.kind != "payment" or not waiting:
        raise PaymentError("not_payable", _("This step is not waiting for a payment."), 409)
    amount = case_payment_due(case, step_id=step_id)
    if amount <= 0:
        raise PaymentError("nothing_due", _("Nothing is due on this step."), 409)

    gateway = get_gateway()
    now = timezone.now()
    with transaction.atomic():
        Payment.objects.filter(case=case, step_id=step_id, status=PaymentStatus.STARTED).update(
            status=PaymentStatus.FAILED, last_error="superseded by a newer attempt"
        )
        payment = Payment.objects.create(
            case=case, step_id=step_id, payer=by, amount=amount, gateway=gateway.name, created_at=now
        )
    try:
        started = gateway.start(amount=amount, order_id=str(payment.pk), callback_url=callback_url)
    except GatewayError as error:
        logger.warning("Payment %s: gateway %s refused to start: %s", payment.pk, gateway.name, error)
        payment.status, payment.last_error = PaymentStatus.FAILED, str(error)
        payment.save(update_fields=["status", "last_error"])
        raise PaymentError(
            "gateway", _("The bank's gateway cannot be reached now; try again in a few minutes."), 502
        ) from None
    payment.token = started.token
    payment.save(update_fields=["token"])
    payment.redirect_url = started.redirect_url
    return payment


def payment_complete(*, token: str, status: str, reference: str, now: dt.datetime | None = None) -> Payment:
    """The gateway's callback for `token`. Returns the payment in its final state:

    - `status` other than "ok": the payer cancelled → failed (nothing is asked of the bank);
    - otherwise the gateway verifies server-side; it must say ok, the amount IT took must equal
      the payment's amount, and its reference must not belong to another payment; then the case's
      step is confirmed (case_payment_confirmed) → paid;
    - the bank took the money but the order fails (wrong amount, step already paid, case withdrawn
      or closed) → the gateway reverses it → reversed, with the reason in `last_error`;
    - a reused reference → failed, not reversed (that money belongs to the other payment).

    Idempotent: a callback for a payment already paid or reversed returns it unchanged. Raises
    PaymentError 404 `unknown_payment` for a token we never gave out."""
    now = now or timezone.now()
    token = str(token or "").strip()
    reference = str(reference or "").strip()
    if not token:
        raise PaymentError("unknown_payment", _("There is no such payment."), 404)
    with transaction.atomic():
        # The row lock makes a second callback for the same token wait, then see the first's result.
        payment = Payment.objects.select_for_update().filter(token=token).first()
        if payment is None:
            raise PaymentError("unknown_payment", _("There is no such payment."), 404)
        if payment.status in (PaymentStatus.PAID, PaymentStatus.REVERSED):
            return payment
        if status != CALLBACK_OK:
            if payment.status == PaymentStatus.STARTED:
                _finish(payment, PaymentStatus.FAILED, "cancelled by the payer")
            return payment

        gateway = get_gateway(payment.gateway)
        try:
            verified = gateway.verify(token=token, reference=reference)
        except GatewayError as error:
            # Stays as it was: the next callback (or an operator) can verify again.
            logger.warning("Payment %s: verification failed: %s", payment.pk, error)
            payment.last_error = f"verification failed: {error}"
            payment.save(update_fields=["last_error"])
            return payment
        if not verified.ok:
            _finish(payment, PaymentStatus.FAILED, f"the bank did not confirm it ({verified.status})")
            return payment
        if Payment.objects.filter(reference=verified.reference).exclude(pk=payment.pk).exists():
            logger.warning("Payment %s: reference %s is already used", payment.pk, verified.reference)
            _finish(payment, PaymentStatus.FAILED, f"reference {verified.reference} is already used")
            return payment
        payment.reference, payment.verified_at = verified.reference, now
        if verified.amount != payment.amount:
            _reverse(gateway, payment, f"the bank took {verified.amount} Rials, {payment.amount} were asked")
            return payment
        try:
            case_payment_confirmed(
                case=payment.case,
                step_id=payment.step_id,
                amount=verified.amount,
                reference=verified.reference,
                now=now,
            )
        except CaseError as error:
            if error.code == "reference_reused":
                payment.reference = ""
                _finish(payment, PaymentStatus.FAILED, f"{error.code}: {error.message}")
            else:
                _reverse(gateway, payment, f"{error.code}: {error.message}")
            return payment
        _finish(payment, PaymentStatus.PAID, "")
    return payment


def _pays_for(user, case: Case) -> bool:
    if user.pk == case.applicant_id:
        return True
    return (
        case.office_id is not None
        and OfficeOperator.objects.filter(user=user, office_id=case.office_id).exists()
    )


def _finish(payment: Payment, status: str, reason: str) -> None:
    payment.status, payment.last_error = status, reason
    payment.save(update_fields=["status", "last_error", "reference", "verified_at"])


def _reverse(gateway, payment: Payment, reason: str) -> None:
    # The money was taken but the order failed: give it back. A bank that refuses the reversal
    # leaves the payment failed with both reasons, for an operator to settle by hand.
    try:
        reversed_ok = gateway.reverse(token=payment.token, reference=payment.reference)
    except GatewayError as error:
        reversed_ok, reason = False, f"{reason}; reversal failed: {error}"
    logger.warning("Payment %s: order failed (%s); reversed: %s", payment.pk, reason, reversed_ok)
    if reversed_ok:
        _finish(payment, PaymentStatus.REVERSED, reason)
    else:
        _finish(payment, PaymentStatus.FAILED, f"{reason}; NOT REVERSED — settle with the bank")
