"""The staff desk's process pages: every service with its reform metrics, a service's versions and
district variants side by side, comparisons, and — for process owners — editing a draft, making
a new draft, importing a file and publishing. Thin: forms read the request, catalog selectors and
services do the work (every write is a catalog.services call), templates draw the answer.

Access (desk.access): staff with a role read everything; process owners change things. A
refused write is a page that says why, with the status that fits: 400 bad input, 403 not allowed,
404 no such thing, 409 the version is no longer a draft (or cannot be published as it is)."""

from __future__ import annotations

from itertools import pairwise

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from pishkhan.accounts.models import Role, RoleBinding
from pishkhan.cases.selectors import MANAGER_ROLE, OVERSIGHT_ROLES, queue_for
from pishkhan.catalog import selectors
from pishkhan.catalog.definition import STANDARD_ROLES, Text
from pishkhan.catalog.diff import definition_diff
from pishkhan.catalog.loader import Problem, load_definition_bytes
from pishkhan.catalog.metrics import METRIC_LABELS, definition_metrics
from pishkhan.catalog.models import VersionStatus
from pishkhan.catalog.services import (
    CatalogError,
    source_parse,
    version_import,
    version_new_draft_from,
    version_publish,
    version_update_draft,
)
from pishkhan.catalog.validation import validate_definition
from pishkhan.core.text import localize_digits

from .access import (
    PROCESS_OWNER,
    forbidden,
    header_links,
    is_process_owner,
    owner_message,
    owner_required,
    staff_required,
)
from .comparison import baseline_index, column_get, metric_rows, role_names, service_columns, step_changes
from .editing import edit_body, edit_initial, problems_to_forms
from .forms import DocumentFormSet, ImportForm, NoteForm, StepFormSet

SORT_KEYS = ("title", *METRIC_LABELS)
ADMINISTRATOR = "administrator"


def _language() -> str:
    return (get_language() or "fa").split("-")[0]


def _city_roles() -> dict[str, Text]:
    return {
        code: Text(fa=name_fa, en=name_en)
        for code, name_fa, name_en in Role.objects.values_list("code", "name_fa", "name_en")
    }


def _render(request, template: str, context: dict, *, status: int = 200):
    """render() with what every desk page's header needs: whether to offer the owners' links."""
    context = {**header_links(request.user), **context}
    return render(request, template, context, status=status)


def not_found(request, message: str):
    return _render(request, "desk/not_found.html", {"message": message}, status=404)


def _service_or_404(request, code: str):
    service = selectors.service_get(code)
    if service is None:
        return None, not_found(request, _("There is no service with the code “%(code)s”.") % {"code": code})
    return service, None


def _version_or_404(request, code: str, number: int):
    version = selectors.version_get(code, number)
    if version is None:
        message = _("Service “%(code)s” has no version %(number)s.") % {
            "code": code,
            "number": localize_digits(number),
        }
        return None, not_found(request, message)
    return version, None


@staff_required
@require_safe
def desk_home(request):
    """`desk/`, where staff land after signing in: for a manager the team page (their district's
    workload and overdue steps, one click from their own queue); for anyone with a step waiting in
    their queue, the queue; otherwise the page of what their roles do — the process bank for
    process owners, the map of every open case for auditors and council observers, the admin site
    for administrators. Anyone else gets their (empty) queue."""
    user = request.user
    roles = set(RoleBinding.objects.filter(user=user).values_list("role__code", flat=True))
    if MANAGER_ROLE in roles:
        return redirect("desk:inbox_team")
    if queue_for(user).exists():
        return redirect("desk:inbox")
    if PROCESS_OWNER in roles:
        return redirect("desk:process_list")
    if roles & set(OVERSIGHT_ROLES):
        return redirect("desk:map")
    if ADMINISTRATOR in roles and user.is_staff:
        return redirect("admin:index")
    return redirect("desk:inbox")


# --- reading --------------------------------------------------------------------------------------


@staff_required
@require_safe
def process_list(request):
    """`desk/processes/?sort=steps&order=desc`: every service the bank knows with the metrics of
    its current version (the published one; the latest draft for a service not yet published)."""
    language = _language()
    sort = request.GET.get("sort", "title")
    sort = sort if sort in SORT_KEYS else "title"
    descending = request.GET.get("order") == "desc"
    rows = []
    for service in selectors.service_list(include_drafts=True):
        version = selectors.version_current(service) or selectors.version_list(service).last()
        if version is None:
            continue
        definition = selectors.version_definition(version)
        rows.append(
            {
                "service": service,
                "title": definition.title.get(language),
                "version": version,
                "metrics": definition_metrics(definition),
                "drafts": service.versions.filter(status=VersionStatus.DRAFT).count(),
            }
        )
    if sort == "title":
        rows.sort(key=lambda row: row["title"], reverse=descending)
    else:
        rows.sort(key=lambda row: (row["metrics"].value(sort), row["title"]), reverse=descending)
    columns = [
        {
            "key": key,
            "label": str(label),
            "sorted": key == sort,
            "aria_sort": ("descending" if descending else "ascending") if key == sort else "",
            # A click on the sorted column turns the order round; on another, numbers start largest first.
            "url": "?" + urlencode({"sort": key, "order": _next_order(key, sort, descending)}),
        }
        for key, label in [("title", _("Service")), *METRIC_LABELS.items()]
        if key != "automatic_steps"
    ]
    context = {
        "rows": rows,
        "columns": columns,
        "sort": sort,
        "can_own": is_process_owner(request.user),
    }
    return _render(request, "desk/process_list.html", context)


def _next_order(key: str, sort: str, descending: bool) -> str:
    if key == sort:
        return "asc" if descending else "desc"
    return "asc" if key == "title" else "desc"


@staff_required
@require_safe
def process_detail(request, code: str):
    """`desk/processes/<code>/`: the metrics of every version and district variant side by side
    (deltas against the published version), the versions with their status and actions, the
    variants with how far each departs, and what changed from each version to the next."""
    service, refusal = _service_or_404(request, code)
    if refusal:
        return refusal
    language = _language()
    columns = service_columns(service)
    baseline = baseline_index(columns) if columns else 0
    versions = [c for c in columns if not c.is_variant]
    steps_between = []
    for older, newer in pairwise(versions):
        diff = definition_diff(older.definition, newer.definition)
        steps_between.append({"old": older, "new": newer, "diff": diff})
    current = selectors.version_current(service)
    title = next(
        (c.definition.title.get(language) for c in reversed(versions) if c.status == "published"), None
    ) or (versions[-1].definition.title.get(language) if versions else service.title_fa)
    context = {
        "service": service,
        "title": title,
        "columns": columns,
        "baseline": columns[baseline] if columns else None,
        "rows": metric_rows(columns, baseline) if columns else [],
        "versions": versions,
        "variants": [c for c in columns if c.is_variant],
        "steps_between": steps_between,
        "current": current,
        "can_own": is_process_owner(request.user, service),
    }
    return _render(request, "desk/process_detail.html", context)


@staff_required
@require_safe
def version_detail(request, code: str, number: int):
    """`desk/processes/<code>/v<N>/`: one version — its metrics, steps, documents and fees, what
    the validator says about it, and the actions open to the person looking."""
    version, refusal = _version_or_404(request, code, number)
    if refusal:
        return refusal
    language = _language()
    definition = selectors.version_definition(version)
    roles = role_names([definition], _city_roles(), language=language)
    problems = []
    if version.status == VersionStatus.DRAFT:
        problems = validate_definition(
            {**version.body, "status": "draft"},
            filename=f"{code} v{number}",
            known_roles=selectors.role_codes_known(),
        )
    context = {
        "service": version.service,
        "version": version,
        "definition": definition,
        "title": definition.title.get(language),
        "metrics": definition_metrics(definition),
        "steps": [
            {
                "step": s,
                "title": s.title.get(language) if s.title else s.id,
                "role": roles.get(s.role, s.role),
            }
            for s in definition.steps
        ],
        "documents": [
            {"doc": d, "title": d.title.get(language), "formats": ", ".join(f.upper() for f in d.formats)}
            for d in definition.documents
        ],
        "fees": [{"fee": f, "title": f.title.get(language)} for f in definition.fees],
        "problems": problems,
        "current": selectors.version_current(version.service),
        "can_own": is_process_owner(request.user, version.service),
    }
    return _render(request, "desk/version_detail.html", context)


@staff_required
@require_safe
def process_compare(request, code: str):
    """`desk/processes/<code>/compare?a=1&b=2` (or `b=1:d07`): two definitions side by side —
    their metrics and what steps, documents, fields and fees were added, removed or changed.
    Without a and b: the published version against the latest one. A key naming nothing: 404."""
    service, refusal = _service_or_404(request, code)
    if refusal:
        return refusal
    language = _language()
    columns = service_columns(service)
    versions = [c for c in columns if not c.is_variant]
    if not versions:
        return not_found(request, _("Service “%(code)s” has no versions yet.") % {"code": code})
    default_a = columns[baseline_index(columns)].key
    a_key = request.GET.get("a") or default_a
    b_key = request.GET.get("b") or (versions[-1].key if versions[-1].key != a_key else versions[0].key)
    a, b = column_get(service, a_key), column_get(service, b_key)
    if a is None or b is None:
        missing = a_key if a is None else b_key
        return not_found(
            request,
            _("“%(key)s” is not a version or district variant of “%(code)s”.")
            % {"key": missing, "code": code},
        )
    diff = definition_diff(a.definition, b.definition)
    roles = role_names([a.definition, b.definition], _city_roles(), language=language)
    rows = metric_rows([a, b], 0)
    context = {
        "service": service,
        "title": b.definition.title.get(language),
        "a": a,
        "b": b,
        "choices": [(c.key, c.label) for c in columns],
        "rows": rows,
        "diff": diff,
        "steps": step_changes(diff, language=language, roles=roles),
        "documents": _item_titles(diff.documents, a.definition.documents, b.definition.documents, language),
        "fees": _item_titles(diff.fees, a.definition.fees, b.definition.fees, language),
        "fields": _item_titles(diff.fields, a.definition.fields, b.definition.fields, language),
    }
    return _render(request, "desk/process_compare.html", context)


def _item_titles(changes, old_items, new_items, language: str) -> dict:
    def title(item):
        text = getattr(item, "title", None) or getattr(item, "label", None)
        return text.get(language) if text else item.id

    old = {item.id: item for item in old_items}
    new = {item.id: item for item in new_items}
    return {
        "any": bool(changes),
        "added": [(i, title(new[i])) for i in changes.added if i in new],
        "removed": [(i, title(old[i])) for i in changes.removed if i in old],
        "changed": [
            (i, title(new.get(i) or old[i]), [c.attribute for c in cs]) for i, cs in changes.changed.items()
        ],
    }


# --- changing -------------------------------------------------------------------------------------


def _role_choices(definition, language: str) -> list[tuple[str, str]]:
    city = _city_roles()
    titles = role_names([definition], city, language=language)
    codes = list(STANDARD_ROLES) + sorted(
        (set(city) | {r.code for r in definition.roles}) - set(STANDARD_ROLES)
    )
    # A role the draft names but nobody knows stays selectable, so the form shows what is there.
    codes += sorted({s.role for s in definition.work_steps if s.role} - set(codes))
    return [(code, f"{titles.get(code, code)} ({code})") for code in codes]


def frozen(request, version, *, status=409):
    """The answer to a change asked of a published or retired version: it never changes."""
    return _render(
        request,
        "desk/frozen.html",
        {
            "service": version.service,
            "version": version,
            "can_own": is_process_owner(request.user, version.service),
        },
        status=status,
    )


@owner_required
@require_http_methods(["GET", "POST"])
def version_edit(request, code: str, number: int):
    """`desk/processes/<code>/v<N>/edit`: edit a draft's steps and documents. The new body goes
    through catalog.services.version_update_draft; its problems are shown beside the fields they
    concern, nothing is saved, and the form keeps what was typed (400). A published or retired
    version: 409 with the way forward (a new draft)."""
    version, refusal = _version_or_404(request, code, number)
    if refusal:
        return refusal
    if not is_process_owner(request.user, version.service):
        return forbidden(request, owner_message())
    if version.status != VersionStatus.DRAFT:
        return frozen(request, version)
    language = _language()
    definition = selectors.version_definition(version)
    role_choices = _role_choices(definition, language)
    step_choices = [
        (s.id, f"{s.title.get(language) if s.title else s.id} ({s.id})") for s in definition.work_steps
    ]
    step_initial, document_initial = edit_initial(definition)
    data = request.POST if request.method == "POST" else None
    step_forms = StepFormSet(
        data, initial=step_initial, prefix="steps", form_kwargs={"role_choices": role_choices}
    )
    document_forms = DocumentFormSet(
        data, initial=document_initial, prefix="documents", form_kwargs={"step_choices": step_choices}
    )
    note_form = NoteForm(data, initial={"note": version.note})
    page_problems: list[Problem] = []
    status = 200
    if request.method == "POST":
        valid = step_forms.is_valid() & document_forms.is_valid() & note_form.is_valid()
        if valid:
            try:
                edited = edit_body(version.body, step_forms.forms, document_forms.forms)
            except KeyError:
                return _render(
                    request,
                    "desk/bad_request.html",
                    {
                        "message": _(
                            "The form names a step this draft does not have. Reload the page and try again."
                        )
                    },
                    status=400,
                )
            try:
                version_update_draft(
                    version=version, body=edited.body, by=request.user, note=note_form.cleaned_data["note"]
                )
            except CatalogError as error:
                if not error.problems:
                    # Published by someone else a moment ago, or the body names another service.
                    latest = selectors.version_get(code, number)
                    if latest is not None and latest.status != VersionStatus.DRAFT:
                        return frozen(request, latest)
                    page_problems = [Problem(file="", line=None, path="", message=str(error))]
                else:
                    page_problems = problems_to_forms(
                        error.problems, edited, step_forms.forms, document_forms.forms
                    )
                status = 400
            else:
                if edited.removed_steps:
                    messages.success(
                        request,
                        _("Draft saved; %(count)s step(s) removed and their neighbours joined.")
                        % {"count": localize_digits(len(edited.removed_steps))},
                    )
                else:
                    messages.success(request, _("Draft saved."))
                return redirect("desk:version_detail", code=code, number=number)
        else:
            status = 400
    form_errors = (
        request.method == "POST"
        and status == 400
        and (
            any(f.errors for f in step_forms.forms)
            or any(f.errors for f in document_forms.forms)
            or step_forms.non_form_errors()
            or document_forms.non_form_errors()
            or note_form.errors
        )
    )
    context = {
        "service": version.service,
        "version": version,
        "title": definition.title.get(language),
        "step_forms": step_forms,
        "document_forms": document_forms,
        "note_form": note_form,
        "page_problems": page_problems,
        "form_errors": form_errors,
        "kept_steps": [s for s in definition.steps if not s.is_work],
    }
    return _render(request, "desk/version_edit.html", context, status=status)


@owner_required
@require_POST
def version_new_draft(request, code: str, number: int):
    """POST `desk/processes/<code>/v<N>/new-draft`: copy the version to a new draft and open it."""
    version, refusal = _version_or_404(request, code, number)
    if refusal:
        return refusal
    if not is_process_owner(request.user, version.service):
        return forbidden(request, owner_message())
    draft = version_new_draft_from(version=version, by=request.user)
    messages.success(
        request,
        _("Version %(new)s is a new draft copied from version %(old)s; change it here.")
        % {"new": localize_digits(draft.number), "old": localize_digits(version.number)},
    )
    return redirect("desk:version_edit", code=code, number=draft.number)


@owner_required
@require_http_methods(["GET", "POST"])
def version_publish_view(request, code: str, number: int):
    """`desk/processes/<code>/v<N>/publish`: GET asks for confirmation, showing what publishing
    changes (against the version published now) and what the validator says; POST publishes
    through catalog.services.version_publish, which retires the previous version and writes the
    audit row. Refused: 403 (not this service's owner), 409 (not a draft, or problems)."""
    version, refusal = _version_or_404(request, code, number)
    if refusal:
        return refusal
    if not is_process_owner(request.user, version.service):
        return forbidden(request, owner_message())
    if version.status != VersionStatus.DRAFT:
        return frozen(request, version)
    language = _language()
    current = selectors.version_current(version.service)
    definition = selectors.version_definition(version)
    diff = definition_diff(selectors.version_definition(current), definition) if current else None
    problems = validate_definition(
        {**version.body, "status": "published"},
        filename=f"{code} v{number}",
        known_roles=selectors.role_codes_known(),
    )
    status = 200
    if request.method == "POST":
        if request.POST.get("confirm") != "yes":
            status = 400
            problems = [
                Problem(file="", line=None, path="", message=_("Confirm with the button below to publish.")),
                *problems,
            ]
        else:
            try:
                publication = version_publish(version=version, by=request.user)
            except PermissionDenied as error:
                return forbidden(request, str(error) or owner_message())
            except CatalogError as error:
                problems = error.problems or [Problem(file="", line=None, path="", message=str(error))]
                status = 409
            else:
                if publication.retired is not None:
                    text = _(
                        "Version %(new)s is published; version %(old)s is retired. New cases start on it now."
                    )
                    messages.success(
                        request,
                        text
                        % {
                            "new": localize_digits(number),
                            "old": localize_digits(publication.retired.number),
                        },
                    )
                else:
                    messages.success(
                        request,
                        _("Version %(new)s is published. New cases start on it now.")
                        % {"new": localize_digits(number)},
                    )
                return redirect("desk:process_detail", code=code)
    compared = [column_get(version.service, str(v.number)) for v in (current, version) if v is not None]
    rows = metric_rows([c for c in compared if c is not None], 0)
    context = {
        "service": version.service,
        "version": version,
        "title": definition.title.get(language),
        "current": current,
        "diff": diff,
        "rows": rows,
        "problems": problems,
        "errors": [p for p in problems if p.severity == "error"],
        "status_code": status,
    }
    return _render(request, "desk/version_publish.html", context, status=status)


@owner_required
@require_http_methods(["GET", "POST"])
def process_import(request):
    """`desk/processes/import`: upload a YAML or BPMN definition (at most 2 MB) as a new draft of
    its service. Shows the steps and roles found and, for BPMN, what had no counterpart. A file
    that cannot be imported: 400 with its located problems; nothing is stored."""
    if request.method != "POST":
        return _render(request, "desk/process_import.html", {"form": ImportForm()})
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render(request, "desk/process_import.html", {"form": form}, status=400)
    upload = form.cleaned_data["file"]
    filename = upload.name.replace("\\", "/").rsplit("/", 1)[-1][:120]
    raw = upload.read()
    try:
        raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        problems = load_definition_bytes(raw, filename=filename).problems
        return _import_refused(request, form, filename, problems)
    parsed = source_parse(source=raw, filename=filename)
    try:
        version = version_import(source=raw, filename=filename, by=request.user, parsed=parsed)
    except CatalogError as error:
        return _import_refused(request, form, filename, error.problems or parsed.problems, summary=str(error))
    language = _language()
    definition = parsed.definition
    roles = role_names([definition] if definition else [], _city_roles(), language=language)
    steps = []
    if definition is not None:
        steps = [
            {
                "id": s.id,
                "title": s.title.get(language) if s.title else s.id,
                "role": roles.get(s.role, s.role),
                "days": s.deadline_days,
            }
            for s in definition.work_steps
        ]
    context = {
        "version": version,
        "service": version.service,
        "filename": filename,
        "format": parsed.format,
        "steps": steps,
        "roles": [(code, roles.get(code, code)) for code in parsed.roles_found],
        "unmapped": parsed.unmapped,
        "problems": parsed.problems,
    }
    messages.success(
        request,
        _("%(file)s was imported as draft version %(number)s of “%(code)s”.")
        % {"file": filename, "number": localize_digits(version.number), "code": version.service.code},
    )
    return _render(request, "desk/process_imported.html", context, status=201)


def _import_refused(request, form, filename: str, problems: list[Problem], summary: str = ""):
    context = {
        "form": form,
        "filename": filename,
        "problems": problems,
        "summary": summary or _("%(file)s could not be imported; nothing was stored.") % {"file": filename},
    }
    return _render(request, "desk/process_import.html", context, status=400)


def compare_url(code: str, a: str, b: str) -> str:
    return reverse("desk:process_compare", kwargs={"code": code}) + "?" + urlencode({"a": a, "b": b})
