"""The staff inbox: my queue, one case to work on, and a manager's view of the team.

Thin like the process pages: cases.selectors reads (queue_for, workload, case_timeline …) and
cases.services writes (case_claim, case_release, case_advance, case_reassign). A refusal is the
engine's own CaseError message, shown on the page with its status (400 bad input, 403 not
yours, 409 the case moved on); the form keeps what was typed.

Privacy (DOMAIN.md §7): experts never meet the applicant, so the case page shows no personal
data of the applicant — no name, mobile or national ID, not even when the form asked for them
(CONTACT_FIELD_TYPES); the tracking code names the case and questions go through the system.

Two kinds of step get their own form: an inspection records the visit (findings, the place,
photos taken there: cases.inspections), and a step where someone signs shows what is signed and
asks for an explicit confirmation and a fresh authenticator code (cases.signatures)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from pishkhan.accounts.models import District, RoleBinding, User, UserKind
from pishkhan.cases.documents import INSPECTION_PHOTO, INSPECTION_PHOTO_DOCUMENT, MAX_INSPECTION_PHOTOS
from pishkhan.cases.inspections import inspection_complete, inspection_records
from pishkhan.cases.models import Alert, Position, PositionState
from pishkhan.cases.selectors import (
    MANAGER_ROLE,
    OUTCOME_LABELS,
    case_by_tracking_code,
    case_definition,
    case_timeline,
    case_visible_to,
    queue_for,
    role_title,
    workload,
)
from pishkhan.cases.services import CaseError, case_advance, case_claim, case_reassign, case_release
from pishkhan.cases.signatures import SIGNING_OUTCOMES, signature_required, signature_sheet, signature_sign
from pishkhan.core.ratelimit import client_address
from pishkhan.core.templatetags.pishkhan import format_jalali
from pishkhan.core.text import localize_digits

from .access import forbidden, header_links, staff_required
from .forms import InspectionForm, SignatureForm

# Common reasons for a rejection; the clerk picks one and may add details. The stored reason is
# the chosen sentence (in the clerk's language) followed by the details: the applicant reads it.
REJECT_REASONS = {
    "incomplete_documents": gettext_lazy("The documents are incomplete or invalid"),
    "not_eligible": gettext_lazy("The applicant is not eligible for this service"),
    "detailed_plan": gettext_lazy("The request violates the detailed plan"),
    "other": gettext_lazy("Another reason (explain below)"),
}
# What the correction form offers as the applicant's time to answer, in working days.
DEFAULT_DUE_DAYS = 5
# The states of a step that waits for staff (queued in its role's queue, or held by someone).
OPEN_STATES = (PositionState.QUEUED, PositionState.CLAIMED)
# Answers that reach the applicant rather than describe what is asked for. No step of the desk
# needs them — an expert with a question asks through a correction request — so they are never
# shown here. (The `address` fields of the definitions are the property's or the site's, which
# every step works on and the inspector goes to; the applicant's own address is not asked.)
CONTACT_FIELD_TYPES = frozenset({"mobile", "national_id"})
# What the buttons of an inspection report say, when the definition gives the outcome no label.
REPORT_BUTTONS = {
    "done": gettext_lazy("Record the visit and finish the step"),
    "approve": gettext_lazy("Record the visit and approve"),
    "refer": gettext_lazy("Record the visit and refer"),
    "reject": gettext_lazy("Record the visit and reject"),
}


def _language() -> str:
    return (get_language() or "fa").split("-")[0]


def _render(request, template: str, context: dict, *, status: int = 200):
    context = {**header_links(request.user), **context}
    context.setdefault("desk_manager", _managed_districts(request.user) is not None)
    return render(request, template, context, status=status)


def _not_found(request, message: str):
    return _render(request, "desk/not_found.html", {"message": message}, status=404)


def _managed_districts(user) -> list[int | None] | None:
    """District ids the user manages ([None] for a city-wide manager); None when not a manager."""
    districts = list(
        RoleBinding.objects.filter(user=user, role__code=MANAGER_ROLE).values_list("district_id", flat=True)
    )
    return districts or None


# --- my queue -----------------------------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "HEAD"])
def inbox(request):
    """My queue: the open steps of my roles and districts and the ones I hold, soonest due first;
    narrowed by `district` (code), `role` (code) and `alert` (soon, overdue, on_time)."""
    bindings = RoleBinding.objects.filter(user=request.user).select_related("role", "district")
    district_ids = {b.district_id for b in bindings}
    districts = (
        District.objects.all() if None in district_ids else District.objects.filter(pk__in=district_ids)
    ).order_by("number")
    roles = sorted({b.role.code: b.role for b in bindings}.items())

    chosen = {key: request.GET.get(key, "") for key in ("district", "role", "alert")}
    district = districts.filter(code=chosen["district"]).first() if chosen["district"] else None
    alert = {"soon": Alert.SOON, "overdue": Alert.OVERDUE, "on_time": Alert.NONE}.get(chosen["alert"])
    positions = queue_for(request.user, district=district, role=chosen["role"] or None, alert=alert)
    rows = []
    definitions = {}
    for position in positions[:200]:
        case = position.case
        if case.pk not in definitions:
            definitions[case.pk] = case_definition(case)
        definition = definitions[case.pk]
        step = definition.step(position.step_id)
        rows.append(
            {
                "position": position,
                "case": case,
                "service": definition.title.get(_language()),
                "step": step.title.get(_language()) if step and step.title else position.step_id,
                "role": role_title(position.role, definition),
                "mine": position.assignee_id == request.user.pk,
            }
        )
    return _render(
        request,
        "desk/inbox.html",
        {
            "rows": rows,
            "districts": districts,
            "roles": [(code, role_title(code)) for code, _role in roles],
            "alerts": [("overdue", _("Overdue")), ("soon", _("Due soon")), ("on_time", _("On time"))],
            "chosen": chosen,
            "filtered": any(chosen.values()),
        },
    )


def _position_or_none(position_id: int):
    return Position.objects.select_related("case").filter(pk=position_id).first()


def _back_to_inbox(request):
    # Back where the button was pressed (the queue with its filters, or the case page), never
    # to another site.
    target = request.POST.get("next", "")
    if not target.startswith("/desk/") or target.startswith("//"):
        target = reverse("desk:inbox")
    return redirect(target)


@staff_required
@require_POST
def inbox_claim(request, position_id: int):
    """Take up a queued step; back to where the button was."""
    position = _position_or_none(position_id)
    if position is None or not case_visible_to(request.user, position.case):
        return _not_found(request, _("There is no such step."))
    try:
        case_claim(position=position, actor=request.user)
    except CaseError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The step is yours now; nobody else will take it."))
    return _back_to_inbox(request)


@staff_required
@require_POST
def inbox_release(request, position_id: int):
    """Put a step I hold back in its role's queue."""
    position = _position_or_none(position_id)
    if position is None or not case_visible_to(request.user, position.case):
        return _not_found(request, _("There is no such step."))
    try:
        case_release(position=position, actor=request.user)
    except CaseError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The step is back in the queue."))
    return _back_to_inbox(request)


# --- one case -----------------------------------------------------------------------------------


def _answer_rows(case, definition, answers: dict, language: str) -> list[dict]:
    """The answered fields, in the form's order, each a dict with its `label` and how it is shown:

    - `value` (text; with `url` when it names a case document, `ltr` when it reads left to right);
    - `withheld`: the applicant's contact details (CONTACT_FIELD_TYPES) are named but not shown;
    - `fields`: a group's answered sub-fields, each shown the same way;
    - `rows`: a repeated group's rows, in order, each a list of its answered sub-fields.

    A file field's answer (its SHA-256), at any depth, is the name of the case's document with
    that content, linked to it; the documents are read once, when the first file is met."""
    documents: dict | None = None

    def document_by_digest(digest: str):
        nonlocal documents
        if documents is None:
            documents = {d.file.sha256: d for d in case.documents.select_related("file").order_by("pk")}
        return documents.get(digest)

    def rows_of(fields, values: dict) -> list[dict]:
        return [
            {"label": field.label.get(language), **shown(field, values[field.id])}
            for field in fields
            if values.get(field.id) not in (None, "", [], {})
        ]

    def shown(field, value) -> dict:
        if field.type in CONTACT_FIELD_TYPES:
            return {"value": "", "withheld": True}
        if field.type == "group" and field.repeatable and isinstance(value, list):
            return {"rows": [rows_of(field.fields, row if isinstance(row, dict) else {}) for row in value]}
        if field.type == "group" and isinstance(value, dict):
            return {"fields": rows_of(field.fields, value)}
        if field.type == "file" and isinstance(value, str):
            document = document_by_digest(value)
            if document is None:
                return {"value": value, "ltr": True}  # a digest of a file the case no longer holds
            url = reverse(
                "cases:document_download",
                kwargs={"tracking_code": case.tracking_code, "document_id": document.pk},
            )
            return {"value": document.original_name, "url": url}
        if field.type == "map_point" and isinstance(value, dict):
            # Reads as a coordinate pair.
            return {"value": f"{value.get('lat', '')}, {value.get('lng', '')}", "ltr": True}
        if isinstance(value, bool):
            return {"value": _("Yes") if value else _("No")}
        if field.options:
            labels = {option.value: option.label.get(language) for option in field.options}
            values = value if isinstance(value, list) else [value]
            return {"value": "، ".join(labels.get(str(v), str(v)) for v in values)}
        if field.type == "jalali_date" and isinstance(value, str):
            # Stored as an ISO Gregorian date; staff read Jalali like everyone else.
            try:
                return {"value": format_jalali(dt.date.fromisoformat(value), "long")}
            except ValueError:
                return {"value": value}
        return {"value": str(value)}

    return rows_of(definition.fields, answers)


def _document_rows(case, definition, language: str) -> list[dict]:
    """The case's documents, previewed; the photos of a site visit are shown with the visit."""
    titles = {d.id: d.title.get(language) for d in definition.documents}
    rows = []
    documents = case.documents.exclude(document_type=INSPECTION_PHOTO).select_related("file")
    for document in documents.order_by("document_type", "pk"):
        content_type = document.file.content_type
        url = reverse(
            "cases:document_download",
            kwargs={"tracking_code": case.tracking_code, "document_id": document.pk},
        )
        rows.append(
            {
                "title": titles.get(document.document_type, document.document_type),
                "name": document.original_name,
                "url": url,
                "preview_url": url + "?preview=1",
                "pdf": content_type == "application/pdf",
                "image": content_type.startswith("image/"),
                "uploaded_at": document.uploaded_at,
            }
        )
    return rows


def _bound_to(user, *, role: str, district_id: int) -> bool:
    return RoleBinding.objects.filter(
        Q(district_id=district_id) | Q(district__isnull=True), user=user, role__code=role
    ).exists()


def _actions(request, case, definition, language: str) -> list[dict]:
    """The open steps of `case` the user may complete, each with the outcomes it allows."""
    actions = []
    for position in case.positions.filter(state__in=OPEN_STATES).order_by("assigned_at", "pk"):
        if position.state == PositionState.CLAIMED and position.assignee_id != request.user.pk:
            continue
        if position.assignee_id != request.user.pk and not _bound_to(
            request.user, role=position.role, district_id=case.district_id
        ):
            continue
        step = definition.step(position.step_id)
        if step is None:
            continue
        outcomes = list(dict.fromkeys(outcome.outcome for outcome in step.outcomes))
        action = {
            "position": position,
            "step_id": step.id,
            "title": step.title.get(language) if step.title else step.id,
            "role": role_title(position.role, definition),
            "outcomes": outcomes,
            "mine": position.assignee_id == request.user.pk,
            "kind": "",
        }
        if step.kind == "inspection" and any(o != "return" for o in outcomes):
            # One report form for every outcome but a return, which has its own request form.
            action["kind"] = "inspection"
            action["report_buttons"] = [
                {"outcome": o, "label": _outcome_label(step, o, language, REPORT_BUTTONS)}
                for o in outcomes
                if o != "return"
            ]
            action["outcomes"] = [o for o in outcomes if o == "return"]
        elif signature_required(step) and any(o in SIGNING_OUTCOMES for o in outcomes):
            action["kind"] = "signature"
            action["sign_outcome"] = next(o for o in outcomes if o in SIGNING_OUTCOMES)
            action["sheet"] = signature_sheet(case, step_id=step.id)
            titles = {d.id: d.title.get(language) for d in [*definition.documents, INSPECTION_PHOTO_DOCUMENT]}
            action["sheet_documents"] = list(
                dict.fromkeys(titles.get(d["type"], d["type"]) for d in action["sheet"].documents)
            )
            action["outcomes"] = [o for o in outcomes if o not in SIGNING_OUTCOMES]
        actions.append(action)
    return actions


def _outcome_label(step, outcome: str, language: str, defaults: dict) -> str:
    """The definition's label of `outcome` at `step` (e.g. "Violation on site"), else the default."""
    labelled = next((o.label for o in step.outcomes if o.outcome == outcome and o.label), None)
    if labelled is not None:
        return labelled.get(language)
    return str(defaults.get(outcome, OUTCOME_LABELS.get(outcome, outcome)))


def _inspection_rows(case, definition, language: str) -> list[dict]:
    """The recorded site visits, each with its photos' preview links and the place."""
    rows = []
    for record in inspection_records(case):
        photos = []
        for number, document in enumerate(record.photos, start=1):
            url = reverse(
                "cases:document_download",
                kwargs={"tracking_code": case.tracking_code, "document_id": document.pk},
            )
            photos.append(
                {"number": number, "url": url, "preview_url": url + "?preview=1", "document": document}
            )
        rows.append(
            {
                "record": record,
                "step_title": _step_title(definition, record.step_id, language),
                "outcome_label": OUTCOME_LABELS.get(record.outcome, record.outcome),
                "photos": photos,
            }
        )
    return rows


def _step_title(definition, step_id: str, language: str) -> str:
    step = definition.step(step_id)
    return step.title.get(language) if step is not None and step.title else step_id


def _case_context(request, case, *, posted=None, error=None, bound_form=None) -> dict:
    """What the case page shows. `bound_form`: the inspection or signature form that was sent
    and refused, re-shown in its step with what was typed (never the authenticator code)."""
    definition = case_definition(case)
    language = _language()
    actions = _actions(request, case, definition, language)
    for action in actions:
        step_id = action["step_id"]
        sent = bound_form is not None and posted is not None and posted.get("step") == step_id
        if action["kind"] == "inspection":
            action["form"] = bound_form if sent else InspectionForm(auto_id=f"{step_id}-%s")
        elif action["kind"] == "signature":
            action["form"] = (
                bound_form
                if sent
                else SignatureForm(auto_id=f"{step_id}-%s", initial={"shown_sha256": action["sheet"].sha256})
            )
            # The code is spent or wrong: a new one is typed; the digest is the sheet shown now.
            if action["form"].is_bound:
                action["form"].data = _without(action["form"].data, "code", sha256=action["sheet"].sha256)
    signed = {
        event.seq: (event.data.get("evidence") or {}).get("signature")
        for event in case.events.filter(activity="completed").only("seq", "data")
        if isinstance(event.data, dict) and isinstance(event.data.get("evidence"), dict)
    }
    return {
        "case": case,
        "service": definition.title.get(language),
        "answers": _answer_rows(case, definition, case.answers or {}, language),
        "documents": _document_rows(case, definition, language),
        "document_types": [(d.id, d.title.get(language)) for d in definition.documents],
        "inspections": _inspection_rows(case, definition, language),
        "max_photos": MAX_INSPECTION_PHOTOS,
        "signatures": {seq: signature for seq, signature in signed.items() if signature},
        "timeline": case_timeline(case, viewer=request.user),
        "positions": [
            {
                "position": position,
                "title": _step_title(definition, position.step_id, language),
                "role": role_title(position.role, definition),
            }
            for position in case.positions.select_related("assignee").order_by("assigned_at", "pk")
        ],
        "actions": actions,
        "reject_reasons": [(key, str(label)) for key, label in REJECT_REASONS.items()],
        "default_due_days": DEFAULT_DUE_DAYS,
        "posted": posted,
        "posted_missing": posted.getlist("missing") if posted is not None else [],
        "error": error,
    }


@staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def inbox_case(request, tracking_code: str):
    """One case as the staff member works on it (GET), and completing one of its open steps
    (POST `step`, `outcome`; for reject `reason_choice` and `reason`; for return `missing`,
    `message`, `due_days`). A refusal re-renders the page with the engine's message and status."""
    case = case_by_tracking_code(tracking_code)
    if case is None or not case_visible_to(request.user, case):
        return _not_found(request, _("There is no case with this tracking code that you may see."))
    if request.method != "POST":
        return _render(request, "desk/inbox_case.html", _case_context(request, case))

    posted = request.POST
    outcome = posted.get("outcome", "")
    step = case_definition(case).step(posted.get("step", ""))
    if step is not None and step.kind == "inspection" and outcome != "return":
        return _record_inspection(request, case, step_id=step.id, outcome=outcome)
    if signature_required(step) and outcome in SIGNING_OUTCOMES:
        return _sign(request, case, step_id=step.id, outcome=outcome)
    reason = posted.get("reason", "").strip()
    request_data = None
    try:
        if outcome == "reject":
            reason = _reject_reason(posted.get("reason_choice", ""), reason)
        if outcome == "return":
            request_data = {
                "missing": posted.getlist("missing"),
                "message": posted.get("message", ""),
                "due_days": posted.get("due_days", ""),
            }
        event = case_advance(
            case=case,
            step_id=posted.get("step", ""),
            outcome=outcome,
            actor=request.user,
            reason=reason,
            request=request_data,
        )
    except CaseError as error:
        return _refused(request, case, error)
    return _moved_on(request, case, event)


def _refused(request, case, error: CaseError, *, form=None):
    """The case page again, with the engine's refusal and what was typed; the refusal's status.
    A refusal that names fields of the inspection or signature form is put on those fields."""
    if error.code == "stale":
        error.message = _(
            "Someone completed this step before you, or the case moved on while the page was "
            "open; nothing was changed. The page now shows the case as it is."
        )
    shown_error = error
    if form is not None and error.field_errors and set(error.field_errors) <= set(form.fields):
        for field, problems in error.field_errors.items():
            for problem in problems:
                form.add_error(field, problem)
        shown_error = None  # the form shows it, beside the field
    context = _case_context(request, case, posted=request.POST, error=shown_error, bound_form=form)
    return _render(request, "desk/inbox_case.html", context, status=error.status)


def _moved_on(request, case, event):
    label = OUTCOME_LABELS.get(event.outcome, event.outcome)
    messages.success(request, _("Done: %(outcome)s. The case moved on.") % {"outcome": label})
    return redirect("desk:inbox_case", tracking_code=case.tracking_code)


def _invalid_form(request, case, form):
    context = _case_context(request, case, posted=request.POST, bound_form=form)
    return _render(request, "desk/inbox_case.html", context, status=400)


def _record_inspection(request, case, *, step_id: str, outcome: str):
    """POST of an inspection report: findings, latitude/longitude (typed or from the phone),
    photos → cases.inspections.inspection_complete."""
    form = InspectionForm(request.POST, request.FILES, auto_id=f"{step_id}-%s")
    if not form.is_valid():
        return _invalid_form(request, case, form)
    try:
        event = inspection_complete(
            case=case,
            step_id=step_id,
            outcome=outcome,
            actor=request.user,
            photos=form.cleaned_data["photos"],
            location=form.location(),
            findings=form.cleaned_data["findings"],
        )
    except CaseError as error:
        return _refused(request, case, error, form=form)
    count = len(event.data["evidence"]["inspection"]["photos"])
    messages.success(
        request,
        ngettext(
            "The visit is recorded with %(count)s photo. The case moved on.",
            "The visit is recorded with %(count)s photos. The case moved on.",
            count,
        )
        % {"count": localize_digits(count)},
    )
    return redirect("desk:inbox_case", tracking_code=case.tracking_code)


def _sign(request, case, *, step_id: str, outcome: str):
    """POST of a signature: the confirmation, a fresh authenticator code and the digest of the
    sheet the page showed → cases.signatures.signature_sign."""
    form = SignatureForm(request.POST, auto_id=f"{step_id}-%s")
    if not form.is_valid():
        return _invalid_form(request, case, form)
    try:
        signature_sign(
            case=case,
            step_id=step_id,
            outcome=outcome,
            actor=request.user,
            confirmed=form.cleaned_data["confirm"],
            code=form.cleaned_data["code"],
            shown_sha256=form.cleaned_data["shown_sha256"],
            address=client_address(request),
        )
    except CaseError as error:
        return _refused(request, case, error, form=form)
    messages.success(request, _("Signed. The case moved on."))
    return redirect("desk:inbox_case", tracking_code=case.tracking_code)


def _without(data, name: str, *, sha256: str):
    """A bound form's data without `name`, and with the digest of the sheet shown now."""
    copy = data.copy()
    copy.pop(name, None)
    copy["shown_sha256"] = sha256
    return copy


def _reject_reason(choice: str, details: str) -> str:
    """The reason stored with a rejection: the chosen common reason and the details. Refuses
    (400) without a chosen reason, and `other` without details."""
    if choice not in REJECT_REASONS:
        raise CaseError(
            "reason_required",
            _("Choose the reason for rejecting the request; the applicant reads it."),
            400,
            {"reason_choice": [_("Required.")]},
        )
    if choice == "other":
        if not details:
            raise CaseError(
                "reason_required",
                _("Explain the reason for rejecting the request."),
                400,
                {"reason": [_("Required.")]},
            )
        return details
    sentence = str(REJECT_REASONS[choice])
    return f"{sentence}: {details}" if details else sentence


# --- the team (managers) ------------------------------------------------------------------------


def _eligible_staff(position: Position):
    """Active staff bound to the step's role in its district (or city-wide)."""
    return (
        User.objects.filter(
            Q(role_bindings__district_id=position.district_id) | Q(role_bindings__district__isnull=True),
            kind=UserKind.STAFF,
            is_active=True,
            role_bindings__role__code=position.role,
        )
        .distinct()
        .order_by("last_name", "first_name", "pk")
    )


@staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def inbox_team(request):
    """For managers: open work per role and per person, and the overdue steps of the districts
    they manage, each with a reassign form (POST `position`, `to`, `reason` → case_reassign)."""
    managed = _managed_districts(request.user)
    if managed is None:
        return forbidden(request, _("The team's workload is for managers of a district."))
    citywide = None in managed
    districts = (District.objects.all() if citywide else District.objects.filter(pk__in=managed)).order_by(
        "number"
    )
    chosen_code = request.GET.get("district", "")
    district = districts.filter(code=chosen_code).first() if chosen_code else None
    if district is None and not citywide and len(managed) == 1:
        district = districts.first()

    error = None
    posted = None
    status = 200
    if request.method == "POST":
        posted = request.POST
        position = Position.objects.filter(pk=posted.get("position") or 0).first()
        to = (
            User.objects.filter(pk=posted.get("to") or 0).first()
            if str(posted.get("to", "")).isdigit()
            else None
        )
        if position is None or not (citywide or position.district_id in managed):
            return _not_found(request, _("There is no such step."))
        try:
            if to is None:
                raise CaseError("not_eligible", _("Choose who takes the step."))
            case_reassign(position=position, to=to, by=request.user, reason=posted.get("reason", ""))
        except CaseError as refused:
            error = {"position": position.pk, "message": refused.message}
            status = refused.status
        else:
            messages.success(request, _("The step is now assigned to %(person)s.") % {"person": to})
            query = urlencode({"district": district.code}) if district else ""
            return redirect(reverse("desk:inbox_team") + (f"?{query}" if query else ""))

    now = timezone.now()
    load = workload(district=district, now=now)
    if district is None and not citywide:
        # Several districts: count each managed one (workload narrows to one district or none).
        loads = [workload(district=d, now=now) for d in districts]
        load = {
            "total": sum(item["total"] for item in loads),
            "overdue": sum(item["overdue"] for item in loads),
            "by_role": [row for item in loads for row in item["by_role"]],
            "by_assignee": [row for item in loads for row in item["by_assignee"]],
        }
    names = {d.pk: d for d in District.objects.all()}
    for row in load["by_role"]:
        row["role_title"] = role_title(row["role"])
        row["district"] = names.get(row["district_id"])

    overdue = Position.objects.filter(state__in=OPEN_STATES, due_at__lt=now).select_related(
        "case", "district", "assignee"
    )
    if district is not None:
        overdue = overdue.filter(district=district)
    elif not citywide:
        overdue = overdue.filter(district_id__in=managed)
    rows = []
    for position in overdue.order_by("due_at", "pk")[:200]:
        definition = case_definition(position.case)
        step = definition.step(position.step_id)
        rows.append(
            {
                "position": position,
                "step": step.title.get(_language()) if step and step.title else position.step_id,
                "service": definition.title.get(_language()),
                "role": role_title(position.role, definition),
                "staff": list(_eligible_staff(position)),
            }
        )
    return _render(
        request,
        "desk/inbox_team.html",
        {
            "load": load,
            "rows": rows,
            "districts": districts,
            "district": district,
            "error": error,
            "posted": posted,
        },
        status=status,
    )
