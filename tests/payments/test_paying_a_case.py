from urllib.parse import parse_qs, urlsplit

import pytest

from pishkhan.cases.models import PositionState
from pishkhan.cases.services import case_advance, case_withdraw
from pishkhan.core.text import to_persian_digits
from pishkhan.payments.models import Payment, PaymentStatus, SandboxStatus, SandboxTransaction
from pishkhan.payments.services import PaymentError, payment_complete, payment_start
from tests.cases.factories import SMALL_FEE, make_citizen, submit_case

pytestmark = pytest.mark.django_db

CALLBACK = "http://testserver/payments/callback/"


def open_steps(case):
    return dict(case.positions.values_list("step_id", "state"))


def paid_events(case):
    return [
        (event.step_id, event.data["amount"], event.data["reference"])
        for event in case.events.filter(activity="paid")
    ]


def start(case, by=None):
    return payment_start(case=case, step_id="pay", by=by or case.applicant, callback_url=CALLBACK)


def pay_in_sandbox(client, payment, action="pay"):
    """Click «pay» (or «cancel») on the sandbox page; return the callback's query."""
    response = client.post(payment.redirect_url, {"action": action})
    assert response.status_code == 302
    return {
        key: values[0]
        for key, values in parse_qs(urlsplit(response.url).query, keep_blank_values=True).items()
    }


def test_citizen_pays_through_the_sandbox_and_the_case_moves_past_pay(client, case_at_pay):
    client.force_login(case_at_pay.applicant)
    response = client.post(f"/payments/start/{case_at_pay.tracking_code}/pay/")
    assert response.status_code == 302
    sandbox_url = response.url
    assert sandbox_url.startswith("/payments/sandbox/")

    page = client.get(sandbox_url)
    assert page.status_code == 200
    assert "SANDBOX" in page.content.decode()
    assert "۱٬۷۰۰٬۰۰۰" in page.content.decode()  # the page speaks Persian

    to_bank = client.post(sandbox_url, {"action": "pay"})
    assert to_bank.url.startswith(CALLBACK)
    back = client.get(to_bank.url)
    assert back.status_code == 302

    payment = Payment.objects.get(case=case_at_pay)
    assert back.url == f"/payments/result/{payment.pk}/"
    assert payment.status == PaymentStatus.PAID
    assert payment.amount == SMALL_FEE
    assert len(payment.reference) >= 12 and payment.reference.isdigit()
    assert payment.verified_at is not None
    assert "pay" not in open_steps(case_at_pay)
    assert paid_events(case_at_pay) == [("pay", SMALL_FEE, payment.reference)]

    result = client.get(back.url)
    assert result.status_code == 200
    assert to_persian_digits(payment.reference) in result.content.decode()


def test_cancelling_in_the_sandbox_fails_the_payment_and_the_case_still_waits(client, case_at_pay):
    payment = start(case_at_pay)
    query = pay_in_sandbox(client, payment, action="cancel")
    assert query["status"] == "cancelled"

    payment = payment_complete(**query)
    assert payment.status == PaymentStatus.FAILED
    assert open_steps(case_at_pay)["pay"] == PositionState.WITH_CITIZEN
    assert paid_events(case_at_pay) == []


def test_a_callback_for_an_unknown_token_is_refused_and_nothing_is_paid(client, case_at_pay):
    start(case_at_pay)
    with pytest.raises(PaymentError) as error:
        payment_complete(token="not-a-token", status="ok", reference="12345678901234")
    assert error.value.status == 404
    assert (
        client.get("/payments/callback/", {"token": "nope", "status": "ok", "reference": "1"}).status_code
        == 404
    )
    assert paid_events(case_at_pay) == []


def test_a_forged_amount_in_the_callback_is_ignored_and_a_bank_amount_that_differs_is_reversed(
    client, case_at_pay
):
    payment = start(case_at_pay)
    query = pay_in_sandbox(client, payment)
    # The bank reports taking less than was asked (as a tampered token request would make it).
    SandboxTransaction.objects.filter(token=payment.token).update(amount=1000)
    client.get("/payments/callback/", {**query, "amount": str(SMALL_FEE)})

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REVERSED
    assert "1000" in payment.last_error
    assert SandboxTransaction.objects.get(token=payment.token).status == SandboxStatus.REVERSED
    assert open_steps(case_at_pay)["pay"] == PositionState.WITH_CITIZEN
    assert paid_events(case_at_pay) == []


def test_a_callback_saying_ok_for_an_unpaid_token_is_refused(case_at_pay):
    payment = start(case_at_pay)
    payment = payment_complete(token=payment.token, status="ok", reference="12345678901234")
    assert payment.status == PaymentStatus.FAILED
    assert paid_events(case_at_pay) == []


def test_a_reference_already_used_by_another_payment_is_refused(client, world, case_at_pay):
    first = start(case_at_pay)
    payment_complete(**pay_in_sandbox(client, first))
    first.refresh_from_db()
    assert first.status == PaymentStatus.PAID

    other = submit_case(service=world.service, district=world.district)
    case_advance(case=other, step_id="review", outcome="approve", actor=world.clerk)
    case_advance(case=other, step_id="inspect", outcome="done", actor=world.inspector)
    case_advance(case=other, step_id="tech_review", outcome="approve", actor=world.clerk)
    second = start(other)
    query = pay_in_sandbox(client, second)
    # A misbehaving bank hands out a reference it gave before.
    SandboxTransaction.objects.filter(token=second.token).update(reference=first.reference)

    second = payment_complete(token=query["token"], status="ok", reference=first.reference)
    assert second.status == PaymentStatus.FAILED
    assert "already used" in second.last_error
    assert open_steps(other)["pay"] == PositionState.WITH_CITIZEN
    assert paid_events(other) == []


def test_the_callback_arriving_twice_pays_once(client, case_at_pay):
    payment = start(case_at_pay)
    query = pay_in_sandbox(client, payment)
    assert payment_complete(**query).status == PaymentStatus.PAID
    assert payment_complete(**query).status == PaymentStatus.PAID
    assert client.get("/payments/callback/", query).status_code == 302
    assert len(paid_events(case_at_pay)) == 1


def test_a_case_withdrawn_between_start_and_callback_gets_its_payment_reversed(client, case_at_pay):
    payment = start(case_at_pay)
    query = pay_in_sandbox(client, payment)
    case_withdraw(case=case_at_pay, actor=case_at_pay.applicant)

    payment = payment_complete(**query)
    assert payment.status == PaymentStatus.REVERSED
    assert payment.last_error.startswith("closed")
    assert SandboxTransaction.objects.get(token=payment.token).status == SandboxStatus.REVERSED
    assert paid_events(case_at_pay) == []

    client.force_login(case_at_pay.applicant)
    result = client.get(f"/payments/result/{payment.pk}/")
    assert result.status_code == 200
    assert result.context["payment"].status == PaymentStatus.REVERSED


def test_a_newer_attempt_supersedes_a_started_one(case_at_pay):
    first = start(case_at_pay)
    second = start(case_at_pay)
    first.refresh_from_db()
    assert first.status == PaymentStatus.FAILED
    assert second.status == PaymentStatus.STARTED


def test_another_citizen_cannot_start_a_payment_on_someone_elses_case(client, case_at_pay):
    client.force_login(make_citizen())
    response = client.post(f"/payments/start/{case_at_pay.tracking_code}/pay/")
    assert response.status_code == 404
    assert not Payment.objects.exists()


def test_a_clerk_who_sees_the_case_cannot_pay_for_it(world, case_at_pay):
    with pytest.raises(PaymentError) as error:
        start(case_at_pay, by=world.clerk)
    assert error.value.status == 403


def test_only_the_payer_sees_the_result_page(client, case_at_pay):
    payment = start(case_at_pay)
    client.force_login(make_citizen())
    assert client.get(f"/payments/result/{payment.pk}/").status_code == 404


def test_a_step_not_waiting_for_payment_cannot_be_paid(world):
    case = submit_case(service=world.service, district=world.district)
    with pytest.raises(PaymentError) as error:
        start(case)
    assert error.value.code == "not_payable"
