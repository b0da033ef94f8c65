"""`services/counter/`: an e-service office operator files a case for a walk-in citizen.

Step 1 (`counter`): the operator types the citizen's national ID and mobile (from the identity
card) and picks a service that offers the `office` channel; a consent code goes to that mobile.
Step 2 (`counter`, same page): the operator types the code the citizen reads out; the citizen's
account is found or created (`citizen_get_or_create`) and the session remembers, server-side,
"this operator may file for this citizen, for this service, for CONSENT_MINUTES".
Step 3 (`counter_file`): the service's form — the same widgets and answer reading as applying
online (portal.apply) — sent to `case_submit(channel="office", …)` with a one-time token.

The consent code reuses the citizen sign-in code machinery (`signin_code_send` /
`signin_code_verify`): the same 6-digit code, HMAC-only storage, per-number and per-address rate
limits and SIGNIN_CODE_MAX_GUESSES guesses per code. Known consequences, accepted for now: the
text message reads as a sign-in code, a right code is audited as the citizen's `signin.ok` (from
the office's address) and sets their last_login, and a first code for a new number makes the
citizen account by mobile before the national ID is checked (a mismatch then leaves that
account, which only the number's owner can sign in to)."""

from __future__ import annotations

import datetime as dt
import secrets

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from pishkhan.accounts.models import User
from pishkhan.accounts.services import (
    AccountsError,
    citizen_get_or_create,
    signin_code_send,
    signin_code_verify,
)
from pishkhan.cases.models import Channel
from pishkhan.cases.services import CaseError, case_submit
from pishkhan.catalog import selectors
from pishkhan.core.ratelimit import client_address
from pishkhan.core.text import localize_digits
from pishkhan.core.validators import normalize_mobile, normalize_national_id
from pishkhan.offices.views import operator_required

from .apply import TOKEN_NAME, answers_from_post, form_widgets, html_id, required_files
from .views import _language

# How long a consent code, once typed, lets the operator file for the citizen.
CONSENT_MINUTES = 30
# Session keys: the step-1 details waiting for their code, and the consent given.
PENDING_KEY = "portal.counter.pending"
CONSENT_KEY = "portal.counter.consent"


def _office_services() -> list[tuple[object, str]]:
    """(service, title) of the published services whose current definition offers `office`."""
    language = _language()
    found = []
    for service in selectors.service_list():
        version = selectors.version_current(service)
        if version is None:
            continue
        definition = selectors.version_definition(version)
        if Channel.OFFICE in definition.channels:
            found.append((service, definition.title.get(language)))
    return found


def _start_page(request, *, office, values, errors, status=200, message=""):
    return render(
        request,
        "portal/counter.html",
        {
            "office": office,
            "stage": "start",
            "services": _office_services(),
            "values": values,
            "errors": errors,
            "message": message,
        },
        status=status,
    )


def _code_page(request, *, office, pending, error="", status=200):
    return render(
        request,
        "portal/counter.html",
        {"office": office, "stage": "code", "pending": pending, "error": error},
        status=status,
    )


def _consent(request) -> dict | None:
    """The consent this operator holds in this session, or None when absent, another
    operator's, or older than CONSENT_MINUTES."""
    consent = request.session.get(CONSENT_KEY)
    if not isinstance(consent, dict) or consent.get("operator") != request.user.pk:
        return None
    try:
        until = dt.datetime.fromisoformat(consent["until"])
    except (KeyError, TypeError, ValueError):
        return None
    return consent if until > timezone.now() else None


@never_cache
@require_http_methods(["GET", "POST"])
@operator_required
def counter(request, *, office):
    """GET: step 1, or step 2 when a code was sent. POST `_action=send`: check the national ID,
    mobile and service and send the consent code (refusals 400/403/429/503 with what was typed
    kept). POST `_action=verify`: check the code and find or create the citizen; then step 3.
    POST `_action=restart`: forget the pending step 1."""
    action = request.POST.get("_action", "") if request.method == "POST" else ""
    pending = request.session.get(PENDING_KEY)
    if pending and pending.get("operator") != request.user.pk:
        pending = None

    if action == "restart":
        request.session.pop(PENDING_KEY, None)
        return redirect("portal:counter")

    if action == "verify" and pending:
        address = client_address(request)
        try:
            signin_code_verify(mobile=pending["mobile"], code=request.POST.get("code", ""), address=address)
            citizen = citizen_get_or_create(
                national_id=pending["national_id"], mobile=pending["mobile"], by=request.user
            )
        except AccountsError as refused:
            return _code_page(
                request, office=office, pending=pending, error=refused.message, status=refused.status
            )
        request.session.pop(PENDING_KEY, None)
        until = timezone.now() + dt.timedelta(minutes=CONSENT_MINUTES)
        request.session[CONSENT_KEY] = {
            "operator": request.user.pk,
            "citizen": citizen.pk,
            "service": pending["service"],
            "until": until.isoformat(),
        }
        return redirect("portal:counter_file")

    if action == "send":
        values = {key: request.POST.get(key, "").strip() for key in ("national_id", "mobile", "service")}
        errors: dict[str, str] = {}
        try:
            national_id = normalize_national_id(values["national_id"])
        except ValidationError as error:
            errors["national_id"] = error.messages[0]
        try:
            mobile = normalize_mobile(values["mobile"])
        except ValidationError as error:
            errors["mobile"] = error.messages[0]
        if values["service"] not in {service.code for service, _title in _office_services()}:
            errors["service"] = _("Choose a service that offices may file.")
        if errors:
            return _start_page(request, office=office, values=values, errors=errors, status=400)
        try:
            signin_code_send(mobile=mobile, address=client_address(request))
        except AccountsError as refused:
            return _start_page(
                request,
                office=office,
                values=values,
                errors={},
                status=refused.status,
                message=refused.message,
            )
        request.session[PENDING_KEY] = {
            "operator": request.user.pk,
            "national_id": national_id,
            "mobile": mobile,
            "service": values["service"],
        }
        return redirect("portal:counter")

    if pending:
        return _code_page(request, office=office, pending=pending)
    return _start_page(request, office=office, values={}, errors={})


def _form_page(request, *, office, service, definition, citizen, values, errors, status=200):
    language = _language()
    summary = [
        ("" if path == "__all__" else html_id(path), text) for path, texts in errors.items() for text in texts
    ]
    return render(
        request,
        "portal/counter_file.html",
        {
            "office": office,
            "service": service,
            "citizen": citizen,
            "title": definition.title.get(language),
            "widgets": form_widgets(definition, values, errors, language=language),
            "required_files": [f.label.get(language) for f in required_files(definition)],
            "has_documents": bool(definition.documents),
            "summary": summary,
            "token": secrets.token_urlsafe(24),
            "token_name": TOKEN_NAME,
        },
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
@operator_required
def counter_file(request, *, office):
    """Step 3. Without a live consent: back to step 1. GET: the service's form. POST: file the case
    for the citizen through the operator's office; refusals (suspended office, expired licence,
    answers) are shown with their status and the typed answers kept; success leads to the case
    page, where documents are uploaded and the fee paid."""
    consent = _consent(request)
    citizen = User.objects.filter(pk=consent["citizen"]).first() if consent else None
    service = selectors.service_get(consent["service"]) if consent else None
    version = selectors.version_current(service) if service is not None else None
    if citizen is None or version is None:
        request.session.pop(CONSENT_KEY, None)
        messages.warning(request, _("The citizen's consent has expired or is missing. Start again."))
        return redirect("portal:counter")
    definition = selectors.version_definition(version)
    page = {"office": office, "service": service, "definition": definition, "citizen": citizen}

    if request.method == "GET":
        return _form_page(request, **page, values={}, errors={})

    answers = answers_from_post(definition, request.POST)
    try:
        case = case_submit(
            service=service,
            applicant=citizen,
            filed_by=request.user,
            answers=answers,
            channel=Channel.OFFICE,
            office=office,
            idempotency_key=request.POST.get(TOKEN_NAME) or None,
        )
    except CaseError as refused:
        errors = dict(refused.field_errors) or {"__all__": [refused.message]}
        return _form_page(request, **page, values=answers, errors=errors, status=refused.status)
    messages.success(
        request,
        _("The application was filed for the citizen. The tracking code is %(code)s.")
        % {"code": localize_digits(case.tracking_code)},
    )
    return redirect("portal:my_case", tracking_code=case.tracking_code)
