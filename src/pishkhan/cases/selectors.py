"""Reads about cases. Every page and endpoint that shows a case, a queue or a timeline reads
through these functions; `cases_for` is the one ownership rule (docs/case-engine.md).

    case_visible_to(user, case) -> bool
    cases_for(user) -> QuerySet[Case]
    case_by_tracking_code(code) -> Case | None
    case_definition(case) -> Definition
    case_definition_of(case, *, body_hash, status, patch) -> Definition
    case_payment_due(case, *, step_id) -> int
    queue_for(user, *, district=None, role=None, alert=None) -> QuerySet[Position]
    workload(*, district=None, now=None) -> dict
    case_timeline(case, *, viewer=None) -> list[TimelineEntry]
    case_public_status(*, tracking_code, second_factor) -> dict | None
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from pishkhan.accounts.models import District, Role, RoleBinding, UserKind
from pishkhan.catalog.definition import Definition, definition_from_dict
from pishkhan.catalog.expressions import expression_evaluate, fee_amount
from pishkhan.catalog.models import DistrictVariant, ProcessVersion
from pishkhan.catalog.selectors import version_definition
from pishkhan.catalog.validation import apply_variant
from pishkhan.core.hashchain import canonical_json
from pishkhan.core.validators import normalize_mobile, normalize_national_id
from pishkhan.offices.models import OfficeOperator

from .models import Case, CaseEvent, Position, PositionState
from .tracking import tracking_code_normalize

# Roles that read every case of the city, and change none.
OVERSIGHT_ROLES = ("auditor", "council_observer")
# The role that oversees a district's work: sees every case of its district, reassigns steps.
MANAGER_ROLE = "manager"
# Activities about who works on a step inside the city; a citizen's timeline leaves them out.
INTERNAL_ACTIVITIES = frozenset({"claimed", "released", "reassigned", "escalated", "deadline_changed"})

ACTIVITY_LABELS = {
    "submitted": gettext_lazy("Submitted"),
    "claimed": gettext_lazy("Taken up"),
    "released": gettext_lazy("Put back in the queue"),
    "completed": gettext_lazy("Step completed"),
    "returned": gettext_lazy("Sent back to the applicant for correction"),
    "answered": gettext_lazy("The applicant answered"),
    "reassigned": gettext_lazy("Reassigned"),
    "withdrawn": gettext_lazy("Withdrawn by the applicant"),
    "escalated": gettext_lazy("Escalated"),
    "deadline_changed": gettext_lazy("Deadline changed"),
    "document_uploaded": gettext_lazy("Document uploaded"),
    "document_issued": gettext_lazy("Document issued"),
    "paid": gettext_lazy("Paid"),
    "forked": gettext_lazy("Parallel steps started"),
    "joined": gettext_lazy("Parallel steps finished"),
    "ended": gettext_lazy("Closed"),
}
OUTCOME_LABELS = {
    "approve": gettext_lazy("Approved"),
    "reject": gettext_lazy("Rejected"),
    "return": gettext_lazy("Returned for correction"),
    "refer": gettext_lazy("Referred"),
    "done": gettext_lazy("Done"),
    "approved": gettext_lazy("Approved"),
    "rejected": gettext_lazy("Rejected"),
    "withdrawn": gettext_lazy("Withdrawn"),
}


def _language() -> str:
    return translation.get_language() or "fa"


# --- who sees what ----------------------------------------------------------------------------


def cases_for(user) -> QuerySet[Case]:
    """The cases `user` may see — THE ownership rule; every view and endpoint filters through it.

    - anonymous or inactive: none;
    - citizen: the cases they are the applicant of;
    - office operator: the cases their office filed;
    - staff: the cases they filed at a counter, hold or held a step of (assignee now, or actor of
      any event), and the cases with an open step in a role they are bound to, in the district of
      that binding (a city-wide binding: in every district); a `manager` binding shows every case
      of its district (city-wide: every case); an `auditor` or `council_observer` binding shows
      every case of the city, to read.

    So a clerk does not browse every case of their district: they see their queue's cases and
    the ones they worked on (DOMAIN.md §7: personal data on a need-to-know basis)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Case.objects.none()
    if user.kind == UserKind.CITIZEN:
        return Case.objects.filter(applicant=user)
    if user.kind == UserKind.OPERATOR:
        office_ids = OfficeOperator.objects.filter(user=user).values("office_id")
        return Case.objects.filter(office_id__in=office_ids)
    if user.kind != UserKind.STAFF:
        return Case.objects.none()

    bindings = list(RoleBinding.objects.filter(user=user).values_list("role__code", "district_id"))
    if any(role in OVERSIGHT_ROLES for role, _district in bindings):
        return Case.objects.all()
    managed = {district for role, district in bindings if role == MANAGER_ROLE}
    if None in managed:
        return Case.objects.all()

    in_my_roles = Q(pk__in=[])
    for role, district in bindings:
        in_my_roles |= Q(role=role) if district is None else Q(role=role, district_id=district)
    open_in_my_roles = Position.objects.filter(in_my_roles, case=OuterRef("pk"))
    held = Position.objects.filter(case=OuterRef("pk"), assignee=user)
    acted = CaseEvent.objects.filter(case=OuterRef("pk"), actor=user)
    return Case.objects.filter(
        Q(filed_by=user)
        | Q(district_id__in=managed)
        | Exists(open_in_my_roles)
        | Exists(held)
        | Exists(acted)
    )


def case_visible_to(user, case: Case) -> bool:
    """True when `user` may see `case`: exactly `cases_for(user)` asked about one case."""
    if case is None or case.pk is None:
        return False
    return cases_for(user).filter(pk=case.pk).exists()


def case_by_tracking_code(code) -> Case | None:
    """The case with this tracking code (typed with any digits, spaces or dashes), or None —
    also for a code whose check digit is wrong, without asking the database. Says nothing about
    who may see it: check case_visible_to (or ask a second factor, case_public_status)."""
    normalized = tracking_code_normalize(code)
    if normalized is None:
        return None
    return (
        Case.objects.select_related("service", "district", "applicant", "office")
        .filter(tracking_code=normalized)
        .first()
    )


# --- the definition a case runs on --------------------------------------------------------------


# Parsed definitions, shared by every call in this process. A 129-step body takes milliseconds to
# parse, and every act on a case needs its definition; published versions never change, so the
# key (the version's body hash and status, the variant's patch hash) only changes when the content
# does. Bounded crudely: a city has a few hundred versions and variants in use.
_DEFINITIONS: dict[tuple, Definition] = {}
_DEFINITIONS_MAX = 512


def case_definition(case: Case) -> Definition:
    """The definition the case follows: the version it started on, with its district's variant
    when it has one. Shared between calls: read it, never change it."""
    body_hash, status = ProcessVersion.objects.values_list("body_hash", "status").get(pk=case.version_id)
    patch = None
    if case.variant_id:
        patch = DistrictVariant.objects.values_list("patch", flat=True).get(pk=case.variant_id)
    return case_definition_of(case, body_hash=body_hash, status=status, patch=patch)


def case_definition_of(case: Case, *, body_hash: str, status: str, patch) -> Definition:
    """case_definition, for a caller that read the version's `body_hash` and `status` and the
    variant's `patch` (None without a variant) itself — the engine does, in the statement that
    locks the case."""
    patch_key = ""
    if case.variant_id:
        patch_key = hashlib.sha256(canonical_json(patch)).hexdigest()
    key = (case.version_id, body_hash, status, case.variant_id, patch_key)
    definition = _DEFINITIONS.get(key)
    if definition is None:
        version = ProcessVersion.objects.get(pk=case.version_id)
        if patch is not None:
            definition = definition_from_dict(apply_variant(version.body, patch))
            definition.version, definition.status = version.number, version.status
        else:
            definition = version_definition(version)
        if len(_DEFINITIONS) >= _DEFINITIONS_MAX:
            _DEFINITIONS.clear()
        _DEFINITIONS[key] = definition
    return definition


def answers_scope(definition: Definition, answers: dict) -> dict:
    """The values conditions and fees read: every field of the form (null when unanswered) and
    the case's answers."""
    return {**{field.id: None for field in definition.fields}, **(answers or {})}


def fees_for_step(definition: Definition, *, step_id: str, answers: dict) -> list[tuple[str, int]]:
    """(fee id, amount in Rials) of each fee the payment step `step_id` collects for these
    answers: the fees of that step whose `when` holds. Raises catalog ExpressionError when an
    expression fails."""
    scope = answers_scope(definition, answers)
    due = []
    for fee in definition.fees:
        if fee.step != step_id:
            continue
        if fee.when and expression_evaluate(fee.when, scope) is not True:
            continue
        due.append((fee.id, fee_amount(fee.amount, scope)))
    return due


def case_payment_due(case: Case, *, step_id: str) -> int:
    """The total in Rials the case's payment step `step_id` collects (what the payment page asks
    and case_payment_confirmed checks)."""
    definition = case_definition(case)
    return sum(amount for _fee, amount in fees_for_step(definition, step_id=step_id, answers=case.answers))


# --- queues and workload ----------------------------------------------------------------------


def queue_for(user, *, district: District | None = None, role: str | None = None, alert: str | None = None):
    """The open steps waiting for `user`: positions `queued` in the (role, district) pairs of their
    role bindings (a city-wide binding: that role in every district), and the positions they
    claimed or were assigned. Narrowed by `district`, `role` (a code) and `alert` ("soon",
    "overdue", or "" for on time). Soonest due first; steps without a due date last."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Position.objects.none()
    pairs = Q(pk__in=[])
    for role_code, district_id in RoleBinding.objects.filter(user=user).values_list(
        "role__code", "district_id"
    ):
        pairs |= Q(role=role_code) if district_id is None else Q(role=role_code, district_id=district_id)
    positions = Position.objects.filter(
        (Q(state=PositionState.QUEUED) & pairs) | Q(state=PositionState.CLAIMED, assignee=user)
    )
    if district is not None:
        positions = positions.filter(district=district)
    if role is not None:
        positions = positions.filter(role=role)
    if alert is not None:
        positions = positions.filter(alert=alert)
    return positions.select_related("case", "case__service", "district", "assignee").order_by(
        F("due_at").asc(nulls_last=True), "assigned_at", "pk"
    )


def workload(*, district: District | None = None, now: dt.datetime | None = None) -> dict:
    """Open staff work (positions queued or claimed), counted for a manager's page:

        {"total": n, "overdue": n,
         "by_role": [{"role", "district_id", "open", "queued", "claimed", "overdue"}, …],
         "by_assignee": [{"assignee_id", "name", "open", "overdue"}, …]}

    Overdue: due before `now` (default: now). `district` narrows to one district."""
    now = now or timezone.now()
    positions = Position.objects.filter(state__in=[PositionState.QUEUED, PositionState.CLAIMED])
    if district is not None:
        positions = positions.filter(district=district)
    overdue = Count("pk", filter=Q(due_at__lt=now))
    by_role = (
        positions.values("role", "district_id")
        .annotate(
            open=Count("pk"),
            queued=Count("pk", filter=Q(state=PositionState.QUEUED)),
            claimed=Count("pk", filter=Q(state=PositionState.CLAIMED)),
            overdue=overdue,
        )
        .order_by("role", "district_id")
    )
    by_assignee = (
        positions.filter(assignee__isnull=False)
        .values("assignee_id", "assignee__first_name", "assignee__last_name", "assignee__username")
        .annotate(open=Count("pk"), overdue=overdue)
        .order_by("assignee_id")
    )
    by_role = [dict(row) for row in by_role]
    return {  # the totals add up the roles' rows: one pass over the open steps fewer
        "total": sum(row["open"] for row in by_role),
        "overdue": sum(row["overdue"] for row in by_role),
        "by_role": by_role,
        "by_assignee": [
            {
                "assignee_id": row["assignee_id"],
                "name": f"{row['assignee__first_name']} {row['assignee__last_name']}".strip()
                or row["assignee__username"],
                "open": row["open"],
                "overdue": row["overdue"],
            }
            for row in by_assignee
        ],
    }


# --- timeline and public status ---------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a case's history, in the active language. `actor_name` is only filled for a
    staff viewer: a citizen sees the role that acted, never the person."""

    seq: int
    at: dt.datetime
    activity: str
    activity_label: str
    step_id: str
    step_title: str
    outcome: str
    outcome_label: str
    role: str
    role_title: str
    reason: str
    actor_name: str | None


def role_title(code: str, definition: Definition | None = None) -> str:
    """The title of a role code in the active language: the definition's own roles first, then
    the city's (accounts.Role); the code itself when neither knows it."""
    if not code:
        return ""
    language = _language()
    if definition is not None:
        for role in definition.roles:
            if role.code == code:
                return role.title.get(language)
    role = Role.objects.filter(code=code).first()
    if role is None:
        return code
    return role.name_en if language.startswith("en") and role.name_en else role.name_fa


def _step_title(definition: Definition, step_id: str) -> str:
    step = definition.step(step_id) if step_id else None
    if step is None or step.title is None:
        return ""
    return step.title.get(_language())


def case_timeline(case: Case, *, viewer=None) -> list[TimelineEntry]:
    """The case's events in order, as the citizen's page and the API show them: step title,
    activity, outcome, role title and the reason given. With a staff `viewer`, also who acted
    and the internal activities (claimed, released, reassigned, escalated, deadline_changed);
    for anyone else those are left out and no person is named."""
    definition = case_definition(case)
    staff = viewer is not None and getattr(viewer, "kind", None) == UserKind.STAFF
    events = case.events.order_by("seq").select_related("actor")
    if not staff:
        events = events.exclude(activity__in=INTERNAL_ACTIVITIES)
    titles: dict[str, str] = {}
    entries = []
    for event in events:
        if event.actor_role not in titles:
            titles[event.actor_role] = role_title(event.actor_role, definition)
        entries.append(
            TimelineEntry(
                seq=event.seq,
                at=event.completed_at,
                activity=event.activity,
                activity_label=str(ACTIVITY_LABELS.get(event.activity, event.activity)),
                step_id=event.step_id,
                step_title=_step_title(definition, event.step_id),
                outcome=event.outcome,
                outcome_label=str(OUTCOME_LABELS.get(event.outcome, event.outcome)),
                role=event.actor_role,
                role_title=titles[event.actor_role],
                reason=event.reason,
                actor_name=(str(event.actor) if event.actor is not None else None) if staff else None,
            )
        )
    return entries


def _second_factor_matches(case: Case, second_factor) -> bool:
    applicant = case.applicant
    candidates = []
    for normalize in (normalize_national_id, normalize_mobile):
        try:
            candidates.append(normalize(second_factor))
        except (ValidationError, TypeError):
            continue
    stored = [value for value in (applicant.national_id, applicant.mobile) if value]
    # Constant-time comparisons: the answer must not leak how much of a guess was right.
    return any(hmac.compare_digest(given, value) for given in candidates for value in stored)


def case_public_status(*, tracking_code, second_factor) -> dict | None:
    """What anyone holding the tracking code and the applicant's national ID or mobile may learn
    (no personal data): {"service", "status", "status_label", "stages": [{"title", "role"}],
    "next_deadline"}; None when the code or the second factor is wrong (the same None, so the
    page does not tell which). Rate-limit the page that calls it."""
    case = case_by_tracking_code(tracking_code)
    if case is None or not second_factor or not _second_factor_matches(case, second_factor):
        return None
    definition = case_definition(case)
    language = _language()
    stages = []
    deadlines = []
    for position in case.positions.order_by("assigned_at", "pk"):
        if position.state == PositionState.WAITING_JOIN:
            continue
        with_applicant = position.state == PositionState.WITH_CITIZEN
        stages.append(
            {
                "title": _step_title(definition, position.step_id),
                "role": str(gettext_lazy("You")) if with_applicant else role_title(position.role, definition),
                "with_applicant": with_applicant,
                "due_at": position.due_at,
            }
        )
        if position.due_at:
            deadlines.append(position.due_at)
    return {
        "tracking_code": case.tracking_code,
        "service": definition.title.get(language),
        "status": case.status,
        "status_label": str(case.get_status_display()),
        "stages": stages,
        "next_deadline": min(deadlines) if deadlines else None,
        "submitted_at": case.submitted_at,
        "closed_at": case.closed_at,
    }
