"""`services/<code>/apply/`: a signed-in citizen fills in a service's form and files the case
online, or saves the form as a draft to finish later. The form comes from the current published
definition (portal.apply); the answers are checked by the case engine (`case_submit` →
`answers_validate`), never here."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from pishkhan.accounts.models import District
from pishkhan.cases.answers import answers_validate
from pishkhan.cases.files import DocumentRejected
from pishkhan.cases.models import Channel
from pishkhan.cases.services import CaseError, case_submit
from pishkhan.catalog import selectors
from pishkhan.core.text import localize_digits

from .apply import (
    ACTION_NAME,
    DISTRICT_NAME,
    TOKEN_NAME,
    DraftFiles,
    answers_from_post,
    case_for_token,
    draft_discard,
    draft_get,
    draft_save,
    form_context,
    html_id,
    row_renamed,
    row_to_add,
)
from .uploads import (
    REMOVE_NAME,
    SLOT_NAME,
    KeptFiles,
    UploadSlot,
    documents_attach,
    kept_in_form,
    size_text,
    slot_named,
    upload_keep,
    upload_slots,
    uploads_receive,
)
from .views import _language, not_found


def _asks_district(definition) -> bool:
    """The engine finds the district in a `district` field or a map point; a form with neither
    gets a district list of the page's own."""
    return not any(f.id == "district" or f.type == "map_point" for f in definition.fields)


def summary_of(errors: dict, labels: dict[str, str]) -> list[tuple[str, str]]:
    """The error summary: (the html id a line links to, the line). The summary stands apart from
    the fields, so each line names its field ("Area: required")."""

    def named(path: str, text: str) -> str:
        label = labels.get(re.split(r"[.\[]", path, maxsplit=1)[0], "")
        return f"{label}: {text}" if label and label not in str(text) else str(text)

    return [
        ("" if path == "__all__" else html_id(path), named(path, text))
        for path, texts in errors.items()
        for text in texts
    ]


def _page(
    request,
    *,
    service,
    definition,
    values,
    errors,
    kept,
    district_code="",
    status=200,
    message="",
    add_row="",
):
    language = _language()
    asks_district = _asks_district(definition)
    district_errors = errors.get("district", []) if asks_district else []
    labels = {f.id: f.label.get(language) for f in definition.fields}
    summary = summary_of(
        {path: texts for path, texts in errors.items() if path != "district" or not asks_district}, labels
    ) + [(html_id(DISTRICT_NAME), m) for m in district_errors]
    context = {
        "service": service,
        "title": definition.title.get(language),
        "summary": summary,
        "message": message,
        "token": secrets.token_urlsafe(24),
        "token_name": TOKEN_NAME,
        "district_name": DISTRICT_NAME,
        "asks_district": asks_district,
        "districts": District.objects.order_by("number") if asks_district else [],
        "district_code": district_code,
        "district_errors": district_errors,
        **form_context(
            definition=definition,
            values=values,
            errors=errors,
            kept=kept,
            language=language,
            upload_url=reverse("portal:apply_upload", args=[service.code]),
            add_row=add_row,
        ),
    }
    return render(request, "portal/apply.html", context, status=status)


@dataclass
class FormPost:
    """A POSTed application form, read (form_post): the answers as typed, each file field answered
    by its kept file's SHA-256; the refusals of the files it carried, by slot name, and the status
    they call for; whether its `_remove` button forgot a file; the repeated group its "Add a row"
    button asked a row for (without the script that adds it in place)."""

    answers: dict
    upload_errors: dict[str, list[str]]
    status: int
    removed: bool
    add_row: str  # the repeated group whose "Add a row" button sent the form, or ""


def form_post(request, *, definition, slots: list[UploadSlot], kept: KeptFiles) -> FormPost:
    """Read a POSTed application form: first the files it carries (multipart, when the browser
    runs no script) are checked and kept, and the `_remove` button's file forgotten; then the
    answers. When rows of a repeated group move up (a row that says nothing dropped before them),
    the files kept for them and the refusals of their files move with them, so the page drawn
    again shows each in its row."""
    errors, status = uploads_receive(slots=slots, files=request.FILES, kept=kept, by=request.user)
    remove = request.POST.get(REMOVE_NAME, "")
    removed = slot_named(slots, remove) is not None
    if removed:
        kept.forget(remove)
    files = kept_in_form(slots, kept.all())
    answers, moved = answers_from_post(definition, request.POST, files=files)
    if moved:
        kept.rename({name: row_renamed(name, moved) for name in files})
        errors = {row_renamed(name, moved): texts for name, texts in errors.items()}
    return FormPost(
        answers=answers,
        upload_errors=errors,
        status=status,
        removed=removed,
        add_row=row_to_add(definition, request.POST.get(ACTION_NAME, "")),
    )


def with_other_errors(definition, answers: dict, upload_errors: dict) -> dict:
    """Upload refusals together with what the validator says of the other answers, so a form sent
    with a refused file shows every problem at once (it is not filed)."""
    _cleaned, others = answers_validate(definition, answers)
    return {**{path: texts for path, texts in others.items() if path not in upload_errors}, **upload_errors}


def file_with_documents(*, definition, slots, kept: KeptFiles, answers: dict, submit, by):
    """File the case (`submit(answers)`: case_submit with the view's arguments; the answers
    form_post read), and attach the kept files as its documents, in one transaction: a file that
    fails its second check undoes the filing and is forgotten. Raises CaseError."""
    files = kept.all()
    try:
        with transaction.atomic():
            case = submit(answers)
            documents_attach(case=case, definition=definition, slots=slots, kept=files, by=by)
    except DocumentRejected as refused:
        for name in refused.field_errors:
            kept.forget(name)
        raise
    return case


def upload_response(request, *, slots: list[UploadSlot], kept: KeptFiles) -> JsonResponse:
    """The upload endpoint's answer (the form's script sends one file at a time as it is chosen).
    POST `slot` and `file`: check and keep the file → {"slot", "name", "size", "message"}; POST
    `slot` and `remove`: forget the slot's file → {"slot", "removed", "message"}. Refusals are
    JSON too, {"error"}, with the check's status (400, 413)."""
    slot = slot_named(slots, request.POST.get(SLOT_NAME, ""))
    if slot is None:
        return JsonResponse({"error": _("This form has no such upload; reload the page.")}, status=400)
    if request.POST.get("remove"):
        kept.forget(slot.name)
        return JsonResponse({"slot": slot.name, "removed": True, "message": _("The file was removed.")})
    upload = request.FILES.get("file")
    if upload is None:
        return JsonResponse({"error": f"{slot.title}: {_('Choose the file to upload.')}"}, status=400)
    try:
        record = upload_keep(slot=slot, upload=upload, by=request.user)
    except DocumentRejected as refused:
        return JsonResponse({"error": refused.message}, status=refused.status)
    kept.keep(slot.name, record)
    return JsonResponse(
        {
            "slot": slot.name,
            "name": record["name"],
            "size": size_text(record["size"]),
            "message": _("Uploaded: the file is kept with this form."),
        }
    )


def _current(code: str):
    service = selectors.service_get(code)
    version = selectors.version_current(service) if service is not None else None
    if version is None:
        return service, None
    return service, selectors.version_definition(version)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def apply(request, code: str):
    """GET: the form, filled from the person's draft if they saved one, with the files kept with
    it. POST: first the files it carries are checked and kept with the draft (a refused file is
    named next to its field, nothing stored) and a `_remove` button forgets its file. Then
    `_action=draft`: save what was typed (unchecked) and show the form again; otherwise (send):
    file the case through `case_submit` with the form's one-time token as the idempotency key, so
    a double click makes one case, and the kept files become its documents in the same
    transaction; refused answers come back next to their fields (4xx) with everything typed kept;
    success deletes the draft and leads to the case page."""
    service, definition = _current(code)
    if definition is None:
        return not_found(request, message=code)
    files = DraftFiles(user=request.user, service=service)

    if request.method == "GET":
        draft = draft_get(user=request.user, service=service)
        data = draft.data if draft is not None and isinstance(draft.data, dict) else {}
        return _page(
            request,
            service=service,
            definition=definition,
            values=data.get("answers", {}),
            errors={},
            kept=files.all(),
            district_code=data.get("district", ""),
            message=_("Your saved draft was opened; check it and send it when ready.") if draft else "",
        )

    done = case_for_token(user=request.user, token=request.POST.get(TOKEN_NAME, ""))
    if done is not None and done.service_id == service.pk:
        return redirect("portal:my_case", tracking_code=done.tracking_code)
    slots = upload_slots(definition, language=_language())
    posted = form_post(request, definition=definition, slots=slots, kept=files)
    answers = posted.answers
    district_code = request.POST.get(DISTRICT_NAME, "").strip()
    page = {"service": service, "definition": definition, "values": answers, "district_code": district_code}

    if posted.removed or posted.add_row or request.POST.get(ACTION_NAME) == "draft":
        message = _("The file was removed.") if posted.removed else ""
        if request.POST.get(ACTION_NAME) == "draft":
            draft_save(
                user=request.user, service=service, data={"answers": answers, "district": district_code}
            )
            message = _("Draft saved. You can come back to this page to finish it.")
        return _page(
            request,
            **page,
            errors=posted.upload_errors,
            kept=files.all(),
            status=posted.status,
            message=message,
            add_row=posted.add_row,
        )
    if posted.upload_errors:
        errors = with_other_errors(definition, answers, posted.upload_errors)
        return _page(request, **page, errors=errors, kept=files.all(), status=posted.status)

    district = District.objects.filter(code=district_code).first() if district_code else None
    try:
        case = file_with_documents(
            definition=definition,
            slots=slots,
            kept=files,
            answers=answers,
            by=request.user,
            submit=lambda complete: case_submit(
                service=service,
                applicant=request.user,
                filed_by=request.user,
                answers=complete,
                channel=Channel.ONLINE,
                district=district,
                idempotency_key=request.POST.get(TOKEN_NAME) or None,
            ),
        )
    except CaseError as refused:
        errors = dict(refused.field_errors) or {"__all__": [refused.message]}
        return _page(request, **page, errors=errors, kept=files.all(), status=refused.status)
    draft_discard(user=request.user, service=service)
    messages.success(
        request,
        _("Your application was filed. Your tracking code is %(code)s.")
        % {"code": localize_digits(case.tracking_code)},
    )
    return redirect("portal:my_case", tracking_code=case.tracking_code)


@login_required
@never_cache
@require_POST
def apply_upload(request, code: str):
    """`services/<code>/apply/upload/`: one file of the apply form, sent by the form's script as
    soon as it is chosen, checked and kept with the person's draft (see upload_response)."""
    service, definition = _current(code)
    if definition is None:
        return JsonResponse({"error": _("This service takes no applications now.")}, status=404)
    return upload_response(
        request,
        slots=upload_slots(definition, language=_language()),
        kept=DraftFiles(user=request.user, service=service),
    )
