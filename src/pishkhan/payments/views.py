"""Pages of the payment flow: start (POST, to the gateway), the gateway's callback, the result
page for the payer, and the sandbox gateway's own page."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pishkhan.cases.selectors import case_by_tracking_code, case_visible_to

from .errors import PaymentError
from .gateways.contrib.sandbox.plugin import sandbox_decide
from .models import Payment, PaymentStatus, SandboxStatus, SandboxTransaction
from .services import payment_complete, payment_start


@login_required
@require_POST
def start(request, tracking_code, step_id):
    case = case_by_tracking_code(tracking_code)
    if case is None or not case_visible_to(request.user, case):
        raise Http404
    try:
        payment = payment_start(
            case=case,
            step_id=step_id,
            by=request.user,
            callback_url=request.build_absolute_uri(reverse("payments:callback")),
        )
    except PaymentError as error:
        if error.status == 404:
            raise Http404 from None
        return render(
            request, "payments/refused.html", {"message": error.message, "case": case}, status=error.status
        )
    return redirect(payment.redirect_url)


# The callback only hands a token to payment_complete, which verifies with the bank itself; there
# is nothing a forged request could change, and banks return with a plain GET.
@csrf_exempt
@require_GET
def callback(request):
    try:
        payment = payment_complete(
            token=request.GET.get("token", ""),
            status=request.GET.get("status", ""),
            reference=request.GET.get("reference", ""),
        )
    except PaymentError as error:
        if error.status == 404:
            raise Http404 from None
        return HttpResponseBadRequest(error.message)
    return redirect("payments:result", payment_id=payment.pk)


@login_required
@require_GET
def result(request, payment_id):
    payment = get_object_or_404(Payment.objects.select_related("case"), pk=payment_id, payer=request.user)
    return render(
        request, "payments/result.html", {"payment": payment, "paid": payment.status == PaymentStatus.PAID}
    )


@require_http_methods(["GET", "POST"])
def sandbox(request, token):
    transaction = get_object_or_404(SandboxTransaction, token=token)
    if request.method == "POST":
        return redirect(sandbox_decide(token=token, pay=request.POST.get("action") == "pay"))
    return render(
        request,
        "payments/sandbox.html",
        {"amount": transaction.amount, "token": token, "open": transaction.status == SandboxStatus.STARTED},
    )
