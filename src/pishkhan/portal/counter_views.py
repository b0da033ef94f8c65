"""`services/counter/`: an e-service office operator files a case for a walk-in citizen.

Step 1 (`counter`): the operator types the citizen's national ID and mobile (from the identity
card) and picks a service that offers the `office` channel; a consent code goes to that mobile.
Step 2 (`counter`, same page): the operator types the code the citizen reads out; the citizen's
account is found or created (`citizen_get_or_create`) and the session remembers, server-side,
"this operator may file for this citizen, for this service, for CONSENT_MINUTES".
Step 3 (`counter_file`): the service's form — the same widgets, uploads and answer reading as
applying online (portal.apply, portal.uploads) — sent to `case_submit(channel="office", …)` with a
one-time token. The documents the operator scans and uploads are checked as they arrive and kept
with the consent in the session (`ConsentFiles`) until the case is filed; then they become its
documents, uploaded by the operator.

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
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from pishkhan.accounts.models import User
from pishkhan.accounts.services import (
    AccountsError,
    citizen_get_or_create,
    signin_code_send,
    signin_code_verify,
)
from pishkhan.cases.models import Channel
from pishkhan.cases.services import CaseError, case_office_intake, case_submit
from pishkhan.catalog import selectors
from pishkhan.core.calendar import local_date
from pishkhan.core.ratelimit import client_address
from pishkhan.core.text import localize_digits
from pishkhan.core.validators import normalize_mobile, normalize_national_id
from pishkhan.offices.selectors import office_filing_refusal
from pishkhan.offices.views import operator_required

from .apply import TOKEN_NAME, case_for_token, form_context
from .apply_views import (
    file_with_documents,
    form_post,
    summary_of,
    upload_response,
    with_other_errors,
)
from .uploads import files_renamed, upload_slots
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
    refusal = office_filing_refusal(office, today=local_date(timezone.now()))
    if refusal:
        # Said before the citizen's time is spent on a consent code and a form.
        return render(
            request,
            "portal/counter.html",
            {"office": office, "stage": "refused", "error": refusal},
            status=403,
        )
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


class ConsentFiles:
    """The files the operator uploaded for the citizen under the current consent
    (portal.uploads.KeptFiles), in the session next to it: a new consent starts with none, so one
    citizen's documents never show in the next citizen's form."""

    def __init__(self, request):
        self.session = request.session

    def all(self) -> dict[str, dict]:
        consent = self.session.get(CONSENT_KEY)
        files = consent.get("files") if isinstance(consent, dict) else None
        return dict(files) if isinstance(files, dict) else {}

    def _change(self, change) -> None:
        consent = self.session.get(CONSENT_KEY)
        if not isinstance(consent, dict):
            return
        files = self.all()
        change(files)
        self.session[CONSENT_KEY] = {**consent, "files": files}

    def keep(self, name: str, record: dict) -> None:
        self._change(lambda files: files.__setitem__(name, record))

    def forget(self, name: str) -> None:
        self._change(lambda files: files.pop(name, None))

    def rename(self, names: dict[str, str]) -> None:
        self._change(lambda files: files_renamed(files, names))

    def clear(self) -> None:
        self._change(lambda files: files.clear())


def _form_page(
    request, *, office, service, definition, citizen, values, errors, status=200, message="", add_row=""
):
    language = _language()
    labels = {f.id: f.label.get(language) for f in definition.fields}
    return render(
        request,
        "portal/counter_file.html",
        {
            "office": office,
            "service": service,
            "citizen": citizen,
            "title": definition.title.get(language),
            "summary": summary_of(errors, labels),
            "message": message,
            "token": secrets.token_urlsafe(24),
            "token_name": TOKEN_NAME,
            **form_context(
                definition=definition,
                values=values,
                errors=errors,
                kept=ConsentFiles(request).all(),
                language=language,
                upload_url=reverse("portal:counter_upload"),
                add_row=add_row,
            ),
        },
        status=status,
    )


def _consented(request):
    """(citizen, service, definition) of the live consent, or None (the consent is then dropped)."""
    consent = _consent(request)
    citizen = User.objects.filter(pk=consent["citizen"]).first() if consent else None
    service = selectors.service_get(consent["service"]) if consent else None
    version = selectors.version_current(service) if service is not None else None
    if citizen is None or version is None:
        request.session.pop(CONSENT_KEY, None)
        return None
    return citizen, service, selectors.version_definition(version)


@never_cache
@require_http_methods(["GET", "POST"])
@operator_required
def counter_file(request, *, office):
    """Step 3. Without a live consent: back to step 1. GET: the service's form, with the documents
    already uploaded under this consent. POST: the files it carries are checked and kept (a `_remove`
    button forgets one); then the case is filed for the citizen through the operator's office with
    the kept files as its documents; refusals (suspended office, expired licence, answers, files)
    are shown with their status and the typed answers kept; success leads to the case page."""
    consented = _consented(request)
    if consented is None:
        messages.warning(request, _("The citizen's consent has expired or is missing. Start again."))
        return redirect("portal:counter")
    citizen, service, definition = consented
    page = {"office": office, "service": service, "definition": definition, "citizen": citizen}

    if request.method == "GET":
        return _form_page(request, **page, values={}, errors={})

    done = case_for_token(user=request.user, token=request.POST.get(TOKEN_NAME, ""))
    if done is not None and done.applicant_id == citizen.pk:
        return redirect("portal:my_case", tracking_code=done.tracking_code)
    files = ConsentFiles(request)
    slots = upload_slots(definition, language=_language())
    posted = form_post(request, definition=definition, slots=slots, kept=files)
    answers = posted.answers
    if posted.removed or posted.add_row:
        return _form_page(
            request,
            **page,
            values=answers,
            errors=posted.upload_errors,
            status=posted.status,
            message=_("The file was removed.") if posted.removed else "",
            add_row=posted.add_row,
        )
    if posted.upload_errors:
        errors = with_other_errors(definition, answers, posted.upload_errors)
        return _form_page(request, **page, values=answers, errors=errors, status=posted.status)
    try:
        with transaction.atomic():
            case = file_with_documents(
                definition=definition,
                slots=slots,
                kept=files,
                answers=answers,
                by=request.user,
                submit=lambda complete: case_submit(
                    service=service,
                    applicant=citizen,
                    filed_by=request.user,
                    answers=complete,
                    channel=Channel.OFFICE,
                    office=office,
                    idempotency_key=request.POST.get(TOKEN_NAME) or None,
                ),
            )
            # The operator checked the papers at the counter: the office's intake step is theirs.
            case_office_intake(case=case, operator=request.user)
    except CaseError as refused:
        errors = dict(refused.field_errors) or {"__all__": [refused.message]}
        return _form_page(request, **page, values=answers, errors=errors, status=refused.status)
    files.clear()
    messages.success(
        request,
        _("The application was filed for the citizen. The tracking code is %(code)s.")
        % {"code": localize_digits(case.tracking_code)},
    )
    return redirect("portal:my_case", tracking_code=case.tracking_code)


@never_cache
@require_POST
@operator_required
def counter_upload(request, *, office):
    """`services/counter/file/upload/`: one scanned document of the counter form, sent by the
    form's script as soon as it is chosen, checked and kept with the consent (upload_response)."""
    consented = _consented(request)
    if consented is None:
        return JsonResponse(
            {"error": _("The citizen's consent has expired or is missing. Start again.")}, status=403
        )
    _citizen, _service, definition = consented
    return upload_response(
        request, slots=upload_slots(definition, language=_language()), kept=ConsentFiles(request)
    )
