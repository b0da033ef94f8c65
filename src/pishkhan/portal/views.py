"""The citizen's side: the public catalogue of services (the list with its search, and a page per
service), anonymous tracking by code and second factor, and the signed-in citizen's own cases.
Thin: the forms read the question, catalog and cases selectors answer it, the page presenters
(diagram, fees) shape the definition for people, the templates draw it. The only writes are the
case page's, and they go through the case engine (cases.services, cases.documents)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.text import Truncator
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from pishkhan.accounts.models import Role
from pishkhan.cases.documents import INSPECTION_PHOTO_DOCUMENT, document_upload
from pishkhan.cases.files import DocumentRejected
from pishkhan.cases.models import Case, CaseDocument, CaseStatus, IssuedDocument, PositionState
from pishkhan.cases.selectors import (
    case_by_tracking_code,
    case_definition,
    case_payment_due,
    case_public_status,
    case_timeline,
    case_visible_to,
    cases_for,
    role_title,
)
from pishkhan.cases.services import CaseError, case_advance, case_answer, case_withdraw
from pishkhan.catalog import selectors
from pishkhan.catalog.definition import CHANNELS, Definition, Text
from pishkhan.catalog.expressions import ExpressionError
from pishkhan.catalog.metrics import definition_metrics
from pishkhan.core.ratelimit import client_address, rate_limit_hit
from pishkhan.core.text import to_ascii_digits

from .diagram import service_flow
from .fees import estimate_questions, fees_estimate, fees_explained
from .forms import CaseDocumentForm, CaseWithdrawForm, FeeEstimateForm, ServiceSearchForm, TrackForm
from .labels import category_label, category_order, channel_label

SUMMARY_WORDS = 20


@dataclass
class Entry:
    """A service as the catalogue lists it."""

    code: str
    title: str
    summary: str
    category: str
    category_label: str
    norm_days: float | None
    channels: list[tuple[str, str]]  # (code, label)


def _language() -> str:
    return (get_language() or "fa").split("-")[0]


def _channels(definition: Definition) -> list[tuple[str, str]]:
    """(code, label) of the channels, always in the same order: online, office, counter."""
    return [(code, channel_label(code)) for code in CHANNELS if code in definition.channels]


def _entry(service, definition: Definition, language: str) -> Entry:
    description = definition.description.get(language) if definition.description else ""
    return Entry(
        code=service.code,
        title=definition.title.get(language),
        summary=Truncator(description).words(SUMMARY_WORDS, truncate="…"),
        category=definition.category,
        category_label=category_label(definition.category),
        norm_days=definition.service_norm_days,
        channels=_channels(definition),
    )


def _entries(services, language: str) -> list[Entry]:
    entries = []
    for service in services:
        version = selectors.version_current(service)
        if version is not None:
            entries.append(_entry(service, selectors.version_definition(version), language))
    return entries


def not_found(request, *, message: str = ""):
    """The catalogue's 404 page: says what was not found and leads back to the list."""
    return render(request, "portal/not_found.html", {"message": message}, status=404)


@require_safe
def service_list(request):
    """`services/?q=…&category=…`: the published services, searched and filtered, grouped by
    category when neither is given. A query too long or an unknown category: 400 with the message,
    what was typed kept, and the whole catalogue below it."""
    language = _language()
    everything = list(selectors.service_list())
    categories = sorted({s.category for s in everything if s.category}, key=category_order)
    form = ServiceSearchForm(request.GET or None, categories=categories)
    query, category, status = "", "", 200
    if form.is_bound:
        if form.is_valid():
            query, category = form.cleaned_data["q"], form.cleaned_data["category"]
        else:
            status = 400
    searching = bool(query or category)
    services = selectors.service_search(query=query, category=category or None) if searching else everything
    entries = _entries(services, language)
    groups = []
    if not searching:
        for code in [*categories, ""]:
            members = [e for e in entries if e.category == code]
            if members:
                groups.append({"code": code, "label": category_label(code), "entries": members})
    context = {
        "form": form,
        "query": query,
        "category": category,
        "category_title": category_label(category) if category else "",
        "categories": [(code, category_label(code)) for code in categories],
        "searching": searching,
        "entries": entries,
        "groups": groups,
        "total": len(everything),
    }
    return render(request, "portal/service_list.html", context, status=status)


def role_titles() -> dict[str, Text]:
    """Role code → title for the roles the city has (accounts.Role)."""
    return {
        code: Text(fa=name_fa, en=name_en)
        for code, name_fa, name_en in Role.objects.values_list("code", "name_fa", "name_en")
    }


@require_safe
def service_detail(request, code: str):
    """`services/<code>/`: everything a citizen needs before applying, from the published version.
    `?estimate=1&fee-…=…` also works out the fees for the answers given (400 with the messages
    when an answer is not valid). An unknown code, or a service with nothing published: 404."""
    service = selectors.service_get(code)
    version = selectors.version_current(service) if service is not None else None
    if version is None:
        return not_found(request, message=code)
    language = _language()
    definition = selectors.version_definition(version)
    flow = service_flow(definition, language=language, role_titles=role_titles())
    fees = fees_explained(definition, language=language, side_steps={box.id for box in flow.side})
    questions = estimate_questions(definition, fees)
    estimating = "estimate" in request.GET
    form = FeeEstimateForm(request.GET if estimating else None, questions=questions, language=language)
    estimate, status = None, 200
    if estimating and questions:
        if form.is_valid():
            estimate = fees_estimate(fees, form.values())
        else:
            status = 400
    steps_by_id = {s.id: s for s in definition.steps}
    documents = [
        {
            "title": doc.title.get(language),
            "formats": [fmt.upper() for fmt in doc.formats],
            "max_size_mb": doc.max_size_mb,
            "required": doc.required,
            "step": steps_by_id[doc.step].title.get(language)
            if doc.step in steps_by_id and steps_by_id[doc.step].title
            else "",
        }
        for doc in definition.documents
    ]
    context = {
        "service": service,
        "version": version,
        "definition": definition,
        "title": definition.title.get(language),
        "description": definition.description.get(language) if definition.description else "",
        "eligibility": definition.eligibility.get(language) if definition.eligibility else "",
        "category_label": category_label(definition.category),
        "channels": _channels(definition),
        "documents": documents,
        "fees": fees,
        "estimate_form": form,
        "estimate": estimate,
        "estimating": estimating,
        "outputs": [
            {"title": o.title.get(language), "valid_days": o.valid_days, "kind": o.kind}
            for o in definition.outputs
        ],
        "flow": flow,
        "metrics": definition_metrics(definition),
    }
    return render(request, "portal/service_detail.html", context, status=status)


# --- tracking a case with its code, without signing in ------------------------------------------

TRACK_WINDOW_HOURS = 1


def _track_allowed(request, tracking_code: str) -> str:
    """ "" when this lookup may go ahead (and is counted), else the message to show with a 429.
    Per client address (an unknown one is not made one bucket everybody shares; the per-code limit
    still holds) and per tracking code, with the limits the status API uses."""
    window = dt.timedelta(hours=TRACK_WINDOW_HOURS)
    address = client_address(request)
    if address and not rate_limit_hit(
        key=f"track:address:{address}", limit=settings.API_STATUS_PER_ADDRESS_PER_HOUR, window=window
    ):
        return _("Too many lookups from your connection. Please try again in an hour.")
    if not rate_limit_hit(
        key=f"track:code:{tracking_code}", limit=settings.API_STATUS_PER_CODE_PER_HOUR, window=window
    ):
        return _("Too many lookups for this tracking code. Please try again in an hour.")
    return ""


@never_cache
@require_http_methods(["GET", "POST"])
def track(request):
    """`track/`: anyone with a tracking code and the applicant's national ID or mobile sees the
    case's status — service, status, current stages and the role holding each, next deadline —
    and nothing personal (DOMAIN.md §7). GET only shows the form; the lookup is a POST, so the
    national ID stays out of URLs and logs. An unknown code and a wrong second factor get the
    same 404 message; too many lookups a 429."""
    form = TrackForm(request.POST if request.method == "POST" else None)
    found, error, status = None, "", 200
    if form.is_bound:
        if not form.is_valid():
            status = 400
        else:
            error = _track_allowed(request, form.cleaned_data["tracking_code"])
            if error:
                status = 429
            else:
                found = case_public_status(
                    tracking_code=form.cleaned_data["tracking_code"],
                    second_factor=to_ascii_digits(form.cleaned_data["second_factor"]),
                )
                if found is not None:
                    form = TrackForm()  # the answer is shown; the national ID is not echoed back
                if found is None:
                    error, status = (
                        _(
                            "No case matches this tracking code and national ID or mobile number. "
                            "Check both and try again."
                        ),
                        404,
                    )
    response = render(
        request, "portal/track.html", {"form": form, "found": found, "error": error}, status=status
    )
    if status == 429:
        response["Retry-After"] = str(TRACK_WINDOW_HOURS * 3600)
    response["X-Robots-Tag"] = "noindex"
    return response


# --- the signed-in citizen's cases ----------------------------------------------------------------


def _step_title(definition: Definition, step_id: str, language: str) -> str:
    step = definition.step(step_id) if step_id else None
    return step.title.get(language) if step is not None and step.title is not None else ""


def _open_positions(case: Case):
    return [p for p in case.positions.order_by("assigned_at", "pk") if p.state != PositionState.WAITING_JOIN]


def _next_deadline(positions):
    deadlines = [p.due_at for p in positions if p.due_at]
    return min(deadlines) if deadlines else None


@login_required
@require_safe
def my_cases(request):
    """`services/my/`: the signed-in person's cases (cases_for), newest first."""
    language = _language()
    rows = []
    cases = cases_for(request.user).select_related("service").prefetch_related("positions")
    for case in cases.order_by("-submitted_at", "-pk"):
        definition = case_definition(case)
        positions = [p for p in case.positions.all() if p.state != PositionState.WAITING_JOIN]
        rows.append(
            {
                "case": case,
                "service": definition.title.get(language),
                "status_label": case.get_status_display(),
                "next_deadline": _next_deadline(positions),
                "with_applicant": case.status == CaseStatus.WITH_CITIZEN,
            }
        )
    return render(request, "portal/my_cases.html", {"rows": rows})


def _payment_url(tracking_code: str, step_id: str) -> str:
    """The payment page's address, or "" while the payments app is not installed."""
    try:
        return reverse("payments:start", args=[tracking_code, step_id])
    except NoReverseMatch:
        return ""


def _case_page(request, case: Case, *, errors: dict | None = None, withdraw_form=None, answer_message=""):
    """The context of the case page, built fresh after any change."""
    language = _language()
    definition = case_definition(case)
    # The inspector's photos of a site visit are the engine's own document type, not the definition's.
    documents_by_id = {d.id: d for d in [*definition.documents, INSPECTION_PHOTO_DOCUMENT]}
    positions = _open_positions(case)
    stages, corrections, payments, own_steps = [], [], [], []
    for position in positions:
        with_applicant = position.state == PositionState.WITH_CITIZEN
        step = definition.step(position.step_id)
        stages.append(
            {
                "title": _step_title(definition, position.step_id, language),
                "role": _("You") if with_applicant else role_title(position.role, definition),
                "with_applicant": with_applicant,
                "due_at": position.due_at,
            }
        )
        if not with_applicant:
            continue
        if position.request:
            after = position.request.get("documents_after") or 0
            uploaded = set(
                CaseDocument.objects.filter(case=case, pk__gt=after).values_list("document_type", flat=True)
            )
            corrections.append(
                {
                    "step_id": position.step_id,
                    "step_title": _step_title(definition, position.step_id, language),
                    "message": position.request.get("message", ""),
                    "due_at": position.due_at,
                    "missing": [
                        {
                            "id": doc_id,
                            "title": documents_by_id[doc_id].title.get(language)
                            if doc_id in documents_by_id
                            else doc_id,
                            "formats": ", ".join(
                                f.upper()
                                for f in (
                                    documents_by_id[doc_id].formats if doc_id in documents_by_id else []
                                )
                            ),
                            "uploaded": doc_id in uploaded,
                        }
                        for doc_id in position.request.get("missing", [])
                    ],
                }
            )
        elif step is not None and step.kind == "citizen":
            own_steps.append(
                {
                    "step_id": position.step_id,
                    "step_title": _step_title(definition, position.step_id, language),
                    "due_at": position.due_at,
                }
            )
        elif step is not None and step.kind == "payment":
            try:
                amount = case_payment_due(case, step_id=position.step_id)
            except ExpressionError:
                amount = None
            payments.append(
                {
                    "step_id": position.step_id,
                    "step_title": _step_title(definition, position.step_id, language),
                    "amount": amount,
                    "due_at": position.due_at,
                    "url": _payment_url(case.tracking_code, position.step_id),
                }
            )
    outputs = {o.id: o for o in definition.outputs}
    issued = [
        {
            "number": doc.number,
            "title": (doc.title_en if language == "en" and doc.title_en else doc.title_fa)
            or (outputs[doc.output_id].title.get(language) if doc.output_id in outputs else doc.output_id),
            "issued_at": doc.issued_at,
        }
        for doc in IssuedDocument.objects.filter(case=case).order_by("issued_at", "pk")
    ]
    documents = [
        {
            "id": doc.pk,
            "title": documents_by_id[doc.document_type].title.get(language)
            if doc.document_type in documents_by_id
            else doc.document_type,
            "name": doc.original_name,
            "uploaded_at": doc.uploaded_at,
        }
        for doc in CaseDocument.objects.filter(case=case).order_by("uploaded_at", "pk")
    ]
    return {
        "case": case,
        "service": definition.title.get(language),
        "status_label": case.get_status_display(),
        "is_open": case.status not in CaseStatus.closed(),
        "stages": stages,
        "next_deadline": _next_deadline(positions),
        "timeline": case_timeline(case, viewer=request.user),
        "corrections": corrections,
        "payments": payments,
        "own_steps": own_steps,
        "documents": documents,
        "issued": issued,
        "errors": errors or {},
        "withdraw_form": withdraw_form or CaseWithdrawForm(),
        "answer_message": answer_message,
    }


def _visible_case(request, tracking_code: str) -> Case:
    case = case_by_tracking_code(tracking_code)
    if case is None or not case_visible_to(request.user, case):
        raise Http404
    return case


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def my_case(request, tracking_code: str):
    """`services/my/<tracking_code>/`: one of the person's cases (404 for anyone else's): where it
    stands, its timeline, what they must do now and its files. POST `action` = `upload` (a missing
    document), `answer` (a correction request), `done` (with `step_id`: the applicant's own step
    is done) or `withdraw`; each goes through the case engine,
    and a refusal shows the engine's message with its 4xx status, nothing changed."""
    case = _visible_case(request, tracking_code)
    if request.method == "GET":
        return render(request, "portal/my_case.html", _case_page(request, case))

    action = request.POST.get("action", "")
    errors: dict = {}
    withdraw_form = None
    answer_message = request.POST.get("message", "")[:1000]
    status = 400
    try:
        if action == "upload":
            form = CaseDocumentForm(request.POST, request.FILES)
            document_type = request.POST.get("document_type", "")
            if not form.is_valid():
                errors["upload"] = {document_type: " ".join(m for ms in form.errors.values() for m in ms)}
            else:
                corrections = _case_page(request, case)["corrections"]
                step_id = next(
                    (
                        c["step_id"]
                        for c in corrections
                        if any(m["id"] == document_type for m in c["missing"])
                    ),
                    None,
                )
                if step_id is None:
                    errors["upload"] = {document_type: _("This case does not wait for that document.")}
                else:
                    try:
                        document_upload(
                            case=case,
                            document_type=document_type,
                            upload=form.cleaned_data["file"],
                            by=request.user,
                            step_id=step_id,
                        )
                    except DocumentRejected as rejected:
                        errors["upload"] = {document_type: rejected.message}
                        status = rejected.status
                    else:
                        messages.success(request, _("Your document was uploaded."))
                        return redirect("portal:my_case", tracking_code=case.tracking_code)
        elif action == "answer":
            case_answer(case=case, actor=request.user, message=answer_message)
            messages.success(request, _("Your answer was sent; the case is back with the municipality."))
            return redirect("portal:my_case", tracking_code=case.tracking_code)
        elif action == "done":
            # The applicant's own step (the works on site, a restoration …): they say it is done.
            step_id = request.POST.get("step_id", "")
            if step_id not in {task["step_id"] for task in _case_page(request, case)["own_steps"]}:
                errors["done"] = _("This step is not yours to report, or it is done already.")
            else:
                case_advance(case=case, step_id=step_id, outcome="done", actor=request.user)
                messages.success(request, _("Thank you; the municipality takes it from here."))
                return redirect("portal:my_case", tracking_code=case.tracking_code)
        elif action == "withdraw":
            withdraw_form = CaseWithdrawForm(request.POST)
            if withdraw_form.is_valid():
                case_withdraw(case=case, actor=request.user, reason=withdraw_form.cleaned_data["reason"])
                messages.success(request, _("Your case was withdrawn."))
                return redirect("portal:my_case", tracking_code=case.tracking_code)
        else:
            errors["page"] = _("Something was missing from the form; please try again.")
    except CaseError as refused:
        errors[action or "page"] = refused.message
        status = refused.status
    case.refresh_from_db()
    context = _case_page(
        request, case, errors=errors, withdraw_form=withdraw_form, answer_message=answer_message
    )
    return render(request, "portal/my_case.html", context, status=status)
