"""Reads about e-service offices: the operator's own office, its cases and monthly statement,
and the city's oversight table.

    office_of(user) -> Office | None
    office_filing_refusal(office, *, today) -> str | None
    office_cases(office, *, status=None) -> QuerySet[Case]
    office_dashboard(office, *, now) -> dict
    office_steps(office, *, now) -> list[dict]
    jalali_month_bounds(year, month) -> (start, end)    aware datetimes, end exclusive
    office_statement(office, *, year, month) -> dict
    office_oversight(*, since) -> list[dict]
    office_directory(*, today) -> list[Office]    the public directory
    office_by_licence(licence_number) -> Office | None

Left out on purpose: a "time to file" (we do not record the office's first contact with the
citizen, so there is nothing honest to measure) and complaints (there is no complaints model
yet; the pages show "—").
"""

from __future__ import annotations

import datetime as dt

import jdatetime
from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from pishkhan.accounts.models import UserKind
from pishkhan.cases.models import Case, CaseEvent, CaseStatus, Position, PositionState
from pishkhan.core.calendar import TEHRAN, from_jalali, local_date, to_jalali

from .models import Office, OfficeOperator, OfficeStatus


def office_of(user) -> Office | None:
    """The office an operator account works for; None for anyone else (or an inactive account)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.kind != UserKind.OPERATOR:
        return None
    link = OfficeOperator.objects.select_related("office", "office__district").filter(user=user).first()
    return link.office if link else None


def office_filing_refusal(office: Office, *, today: dt.date) -> str | None:
    """Why `office` may not file requests on `today` (suspended, licence expired), in the active
    language; None when it may. The engine refuses such a filing; the counter says so up front."""
    if office.status != OfficeStatus.ACTIVE:
        return _("%(office)s is suspended and may not file requests.") % {"office": office}
    if office.licence_expires_on < today:
        return _("The licence of %(office)s has expired; it may not file requests until it is renewed.") % {
            "office": office
        }
    return None


def office_directory(*, today: dt.date) -> list[Office]:
    """The offices that may file requests on `today` (active, licence in force), by district and
    name: what the public directory lists."""
    offices = Office.objects.filter(status=OfficeStatus.ACTIVE, licence_expires_on__gte=today)
    return list(offices.select_related("district").order_by("district__number", "name", "licence_number"))


def office_by_licence(licence_number: str) -> Office | None:
    """The office holding `licence_number` (letter case aside), whatever its standing; None when
    the city licensed no office under that number."""
    return Office.objects.select_related("district").filter(licence_number__iexact=licence_number).first()


def office_cases(office: Office, *, status: str | None = None) -> QuerySet[Case]:
    """The cases `office` filed, newest first; `status` (a CaseStatus value) narrows them."""
    cases = Case.objects.filter(office=office).select_related("service", "district")
    if status is not None:
        cases = cases.filter(status=status)
    return cases.order_by("-submitted_at", "-pk")


def _returned_to_citizen() -> Exists:
    # A case waits for a correction when one of its steps is with the citizen *with a request*;
    # a payment step is with the citizen too, but carries no request.
    return Exists(
        Position.objects.filter(case=OuterRef("pk"), state=PositionState.WITH_CITIZEN).exclude(request={})
    )


def jalali_month_bounds(year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    """Start and (exclusive) end of Jalali `year/month` in Tehran, as aware datetimes. Raises
    ValueError (translated message) for a month that does not exist."""
    first = from_jalali(year, month, 1)
    next_year, next_month = (year + 1, 1) if month == 12 else (year, month + 1)
    after = from_jalali(next_year, next_month, 1)
    start = dt.datetime.combine(first, dt.time.min, tzinfo=TEHRAN)
    end = dt.datetime.combine(after, dt.time.min, tzinfo=TEHRAN)
    return start, end


def current_jalali_month(now: dt.datetime) -> tuple[int, int]:
    """(year, month) of the Jalali month `now` falls in, in Tehran."""
    day = to_jalali(local_date(now))
    return day.year, day.month


def office_dashboard(office: Office, *, now: dt.datetime) -> dict:
    """The counts on an operator's dashboard:

        {"filed_this_month", "in_progress", "returned", "closed", "licence_days_left"}

    filed_this_month: cases submitted in the Jalali month of `now` (Tehran); in_progress: status
    open; returned: waiting for the applicant with a correction request; closed: approved,
    rejected or withdrawn. licence_days_left: days until the licence expires (negative: expired)."""
    start, end = jalali_month_bounds(*current_jalali_month(now))
    cases = Case.objects.filter(office=office)
    counts = cases.aggregate(
        filed_this_month=Count("pk", filter=Q(submitted_at__gte=start, submitted_at__lt=end)),
        in_progress=Count("pk", filter=Q(status=CaseStatus.OPEN)),
        closed=Count("pk", filter=Q(status__in=CaseStatus.closed())),
    )
    counts["returned"] = cases.filter(status=CaseStatus.WITH_CITIZEN).filter(_returned_to_citizen()).count()
    counts["licence_days_left"] = (office.licence_expires_on - local_date(now)).days
    return counts


# Outcomes an office completes its own steps with from the dashboard; a return or a rejection
# needs the staff desk's form (what to correct, the reason).
OFFICE_STEP_OUTCOMES = ("approve", "done")


def office_steps(office: Office, *, now: dt.datetime) -> list[dict]:
    """The steps waiting for `office` itself: those of the e-service office role (paper forms,
    handing a document over at the counter …) queued in the cases it filed, soonest due first:

        [{"case", "step_id", "title", "due_at", "overdue", "outcomes"}]

    `outcomes`: those of OFFICE_STEP_OUTCOMES the step has, what the dashboard offers."""
    from pishkhan.cases.positions import OFFICE_ROLE
    from pishkhan.cases.selectors import case_definition

    positions = (
        Position.objects.filter(
            role=OFFICE_ROLE, state=PositionState.QUEUED, case__office=office, case__status=CaseStatus.OPEN
        )
        .select_related("case", "case__service")
        .order_by("due_at", "assigned_at", "pk")
    )
    language = get_language() or "fa"
    steps = []
    for position in positions:
        step = case_definition(position.case).step(position.step_id)
        if step is None:
            continue
        offered = [o.outcome for o in step.outcomes if o.outcome in OFFICE_STEP_OUTCOMES]
        steps.append(
            {
                "case": position.case,
                "step_id": step.id,
                "title": step.title.get(language) if step.title else step.id,
                "due_at": position.due_at,
                "overdue": position.due_at is not None and position.due_at < now,
                "outcomes": list(dict.fromkeys(offered)),
            }
        )
    return steps


def fee_shares(amount: int, percent: int | None = None) -> tuple[int, int]:
    """(office share, city share) of a payment of `amount` Rials. The office's share is rounded
    down to a whole Rial and the city keeps the remainder, so the two always add up to `amount`
    and the city never loses a fraction of a Rial to rounding."""
    percent = settings.OFFICE_FEE_SHARE_PERCENT if percent is None else percent
    office_share = amount * percent // 100
    return office_share, amount - office_share


def office_statement(office: Office, *, year: int, month: int) -> dict:
    """The fees paid on the cases `office` filed, in Jalali `year/month` (Tehran time of the
    `paid` event), with the office's share (settings.OFFICE_FEE_SHARE_PERCENT) and the city's:

        {"year", "month", "percent", "rows": [{"paid_at", "tracking_code", "service", "amount",
         "office_share", "city_share"}], "total", "office_total", "city_total"}

    Amounts are integer Rials; rounding per payment as in fee_shares, and totals are sums of the
    rows, so the table adds up. Raises ValueError for a month that does not exist."""
    start, end = jalali_month_bounds(year, month)
    percent = settings.OFFICE_FEE_SHARE_PERCENT
    events = (
        CaseEvent.objects.filter(
            case__office=office, activity="paid", completed_at__gte=start, completed_at__lt=end
        )
        .select_related("case", "case__service")
        .order_by("completed_at", "pk")
    )
    rows = []
    for event in events:
        amount = int((event.data or {}).get("amount") or 0)
        office_share, city_share = fee_shares(amount, percent)
        service = event.case.service
        rows.append(
            {
                "paid_at": event.completed_at,
                "tracking_code": event.case.tracking_code,
                "service": service.title_fa if _persian() else (service.title_en or service.title_fa),
                "amount": amount,
                "office_share": office_share,
                "city_share": city_share,
            }
        )
    return {
        "year": year,
        "month": month,
        "percent": percent,
        "rows": rows,
        "total": sum(row["amount"] for row in rows),
        "office_total": sum(row["office_share"] for row in rows),
        "city_total": sum(row["city_share"] for row in rows),
    }


def _persian() -> bool:
    return (get_language() or "fa").startswith("fa")


def office_oversight(*, since: dt.datetime) -> list[dict]:
    """One row per office for the city's oversight page, over the cases filed from `since`:

        {"office", "volume", "returned", "return_rate"}

    volume: cases the office filed; returned: of those, the ones that had at least one `returned`
    event (sent back to the citizen for correction); return_rate: returned / volume as a float
    0–1, None when the office filed nothing. Offices that filed nothing are listed too."""
    had_return = Exists(CaseEvent.objects.filter(case=OuterRef("pk"), activity="returned"))
    stats = {
        row["office_id"]: row
        for row in Case.objects.filter(office__isnull=False, submitted_at__gte=since)
        .annotate(had_return=had_return)
        .values("office_id")
        .annotate(volume=Count("pk"), returned=Count("pk", filter=Q(had_return=True)))
        .order_by("office_id")
    }
    rows = []
    for office in Office.objects.select_related("district").order_by("licence_number"):
        row = stats.get(office.pk, {"volume": 0, "returned": 0})
        volume, returned = row["volume"], row["returned"]
        rows.append(
            {
                "office": office,
                "volume": volume,
                "returned": returned,
                "return_rate": returned / volume if volume else None,
                # For the page: whole percent, half up; None when there is nothing to divide.
                "return_percent": (returned * 200 + volume) // (2 * volume) if volume else None,
            }
        )
    return rows


def jalali_month_name(month: int) -> str:
    """The name of Jalali month `month` (1–12) in the active language."""
    names = jdatetime.date.j_months_fa if _persian() else jdatetime.date.j_months_en
    return names[month - 1]
