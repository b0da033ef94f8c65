"""`services/<code>/apply/`: a signed-in citizen fills in a service's form and files the case
online, or saves the form as a draft to finish later. The form comes from the current published
definition (portal.apply); the answers are checked by the case engine (`case_submit` →
`answers_validate`), never here."""

from __future__ import annotations

import re
import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from pishkhan.accounts.models import District
from pishkhan.cases.models import Channel
from pishkhan.cases.services import CaseError, case_submit
from pishkhan.catalog import selectors
from pishkhan.core.text import localize_digits

from .apply import (
    ACTION_NAME,
    DISTRICT_NAME,
    TOKEN_NAME,
    answers_from_post,
    draft_discard,
    draft_get,
    draft_save,
    form_widgets,
    html_id,
    required_files,
)
from .views import _language, not_found


def _asks_district(definition) -> bool:
    """The engine finds the district in a `district` field or a map point; a form with neither
    gets a district list of the page's own."""
    return not any(f.id == "district" or f.type == "map_point" for f in definition.fields)


def _page(request, *, service, definition, values, errors, district_code="", status=200, message=""):
    language = _language()
    asks_district = _asks_district(definition)
    district_errors = errors.get("district", []) if asks_district else []
    labels = {f.id: f.label.get(language) for f in definition.fields}

    def named(path: str, text: str) -> str:
        # The summary stands apart from the fields, so each line names its field ("Area: required").
        label = labels.get(re.split(r"[.\[]", path, maxsplit=1)[0], "")
        return f"{label}: {text}" if label and label not in str(text) else str(text)

    summary = [
        ("" if path == "__all__" else html_id(path), named(path, message_))
        for path, messages_ in errors.items()
        for message_ in messages_
        if path != "district" or not asks_district
    ] + [(html_id(DISTRICT_NAME), m) for m in district_errors]
    context = {
        "service": service,
        "title": definition.title.get(language),
        "widgets": form_widgets(definition, values, errors, language=language),
        "required_files": [f.label.get(language) for f in required_files(definition)],
        "has_documents": bool(definition.documents),
        "summary": summary,
        "message": message,
        "token": secrets.token_urlsafe(24),
        "token_name": TOKEN_NAME,
        "action_name": ACTION_NAME,
        "district_name": DISTRICT_NAME,
        "asks_district": asks_district,
        "districts": District.objects.order_by("number") if asks_district else [],
        "district_code": district_code,
        "district_errors": district_errors,
    }
    return render(request, "portal/apply.html", context, status=status)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def apply(request, code: str):
    """GET: the form, filled from the person's draft if they saved one. POST `_action=draft`:
    save what was typed (unchecked) and show the form again. POST (send): file the case through
    `case_submit` with the form's one-time token as the idempotency key, so a double click makes
    one case; refused answers come back next to their fields (400) with everything typed kept;
    success deletes the draft and leads to the case page."""
    service = selectors.service_get(code)
    version = selectors.version_current(service) if service is not None else None
    if version is None:
        return not_found(request, message=code)
    definition = selectors.version_definition(version)

    if request.method == "GET":
        draft = draft_get(user=request.user, service=service)
        data = draft.data if draft is not None else {}
        values = data.get("answers", {}) if isinstance(data, dict) else {}
        district_code = data.get("district", "") if isinstance(data, dict) else ""
        return _page(
            request,
            service=service,
            definition=definition,
            values=values,
            errors={},
            district_code=district_code,
            message=_("Your saved draft was opened; check it and send it when ready.") if draft else "",
        )

    answers = answers_from_post(definition, request.POST)
    district_code = request.POST.get(DISTRICT_NAME, "").strip()
    if request.POST.get(ACTION_NAME) == "draft":
        draft_save(user=request.user, service=service, data={"answers": answers, "district": district_code})
        return _page(
            request,
            service=service,
            definition=definition,
            values=answers,
            errors={},
            district_code=district_code,
            message=_("Draft saved. You can come back to this page to finish it."),
        )

    district = District.objects.filter(code=district_code).first() if district_code else None
    try:
        case = case_submit(
            service=service,
            applicant=request.user,
            filed_by=request.user,
            answers=answers,
            channel=Channel.ONLINE,
            district=district,
            idempotency_key=request.POST.get(TOKEN_NAME) or None,
        )
    except CaseError as refused:
        errors = dict(refused.field_errors) or {"__all__": [refused.message]}
        return _page(
            request,
            service=service,
            definition=definition,
            values=answers,
            errors=errors,
            district_code=district_code,
            status=refused.status,
            message="",
        )
    draft_discard(user=request.user, service=service)
    messages.success(
        request,
        _("Your application was filed. Your tracking code is %(code)s.")
        % {"code": localize_digits(case.tracking_code)},
    )
    return redirect("portal:my_case", tracking_code=case.tracking_code)
