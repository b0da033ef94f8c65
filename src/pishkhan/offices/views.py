"""Pages of the e-service offices: the public directory (anyone: the offices that may file today,
and a licence number checked), an operator's dashboard and monthly statement (their own office
only), and the city's oversight of every office (staff bound to manager, auditor,
council_observer or administrator), where administrators suspend and reinstate an office.

Thin: selectors read, offices.services write. Not signed in → the staff sign-in (operators and
staff use it); signed in without the right → a 403 page saying why."""

from __future__ import annotations

import csv
import datetime as dt
import io
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from pishkhan.accounts.models import RoleBinding, UserKind
from pishkhan.accounts.selectors import district_name
from pishkhan.cases.errors import CaseError
from pishkhan.cases.models import Case
from pishkhan.cases.services import case_advance
from pishkhan.core.text import to_ascii_digits

from .forms import OfficeDirectoryForm
from .models import Office, OfficeStatus
from .selectors import (
    OFFICE_STEP_OUTCOMES,
    current_jalali_month,
    jalali_month_name,
    office_by_licence,
    office_cases,
    office_dashboard,
    office_directory,
    office_filing_refusal,
    office_of,
    office_oversight,
    office_statement,
    office_steps,
)
from .services import OfficeError, is_administrator, office_reinstate, office_suspend

OVERSIGHT_ROLES = ("manager", "auditor", "council_observer", "administrator")
# The licence warning shows this many days before expiry.
LICENCE_WARNING_DAYS = 30
# The oversight table counts the cases filed in this many days before today.
OVERSIGHT_WINDOW_DAYS = 365
MAX_CASES_SHOWN = 200


@require_safe
def directory(request):
    """`offices/?district=…&licence=…`: the licensed offices that may file requests today, by
    district (or in one district), and whether an office with the licence number typed is licensed
    now. Nothing about operators or cases. An unknown district or a malformed licence number: 400
    with the message, what was typed kept, and the whole directory below it."""
    today = timezone.localdate()
    offices = office_directory(today=today)
    districts = {office.district.code: office.district for office in offices}
    form = OfficeDirectoryForm(
        request.GET or None, districts=[(code, district_name(d)) for code, d in districts.items()]
    )
    district, licence, status = None, "", 200
    if form.is_bound:
        if form.is_valid():
            district = districts.get(form.cleaned_data["district"])
            licence = form.cleaned_data["licence"]
        else:
            status = 400
    if district is not None:
        offices = [office for office in offices if office.district == district]
    groups = {}
    for office in offices:
        groups.setdefault(office.district, []).append(office)
    checked = office_by_licence(licence) if licence else None
    context = {
        "form": form,
        "groups": [{"name": district_name(d), "offices": members} for d, members in groups.items()],
        "district_code": district.code if district else "",
        "licence": licence,
        "checked": checked,
        "refusal": office_filing_refusal(checked, today=today) if checked else None,
    }
    return render(request, "offices/directory.html", context, status=status)


def _forbidden(request, message: str):
    return render(request, "offices/forbidden.html", {"message": message}, status=403)


def _signin(request):
    return redirect_to_login(request.get_full_path(), reverse("accounts:staff_signin"))


def operator_required(view):
    """Only office operators; the view gets their office as `office`."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return _signin(request)
        office = office_of(request.user)
        if office is None:
            return _forbidden(request, _("This page is for e-service office operators."))
        return view(request, *args, office=office, **kwargs)

    return wrapper


def may_oversee(user) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and user.kind == UserKind.STAFF
        and RoleBinding.objects.filter(user=user, role__code__in=OVERSIGHT_ROLES).exists()
    )


def oversight_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return _signin(request)
        if not may_oversee(request.user):
            return _forbidden(
                request,
                _(
                    "The oversight of offices is for managers, auditors, council observers and administrators."
                ),
            )
        return view(request, *args, **kwargs)

    return wrapper


def _licence(office: Office, days_left: int) -> dict:
    return {
        "expired": days_left < 0,
        "expiring": 0 <= days_left < LICENCE_WARNING_DAYS,
        "days_left": days_left,
    }


@never_cache
@require_safe
@operator_required
def dashboard(request, *, office: Office):
    """`offices/dashboard/`: the operator's office — standing, licence, counts, the steps waiting
    for the office itself, and the cases it filed."""
    return _dashboard(request, office)


def _dashboard(request, office: Office, *, status: int = 200):
    now = timezone.now()
    counts = office_dashboard(office, now=now)
    return render(
        request,
        "offices/dashboard.html",
        {
            "office": office,
            "counts": counts,
            "licence": _licence(office, counts["licence_days_left"]),
            "suspended": office.status == OfficeStatus.SUSPENDED,
            "steps": office_steps(office, now=now),
            "cases": office_cases(office)[:MAX_CASES_SHOWN],
        },
        status=status,
    )


@never_cache
@require_http_methods(["POST"])
@operator_required
def step_done(request, tracking_code: str, step_id: str, *, office: Office):
    """POST `offices/steps/<code>/<step>/` with `outcome` (approve or done): the office completes
    one of its own steps of a case it filed (cases.services.case_advance decides who may). A
    refusal shows the dashboard again with the engine's message and status; a case the office did
    not file is 404, as if it did not exist."""
    case = Case.objects.filter(tracking_code=tracking_code, office=office).first()
    if case is None:
        messages.error(request, _("Your office filed no case with this tracking code."))
        return _dashboard(request, office, status=404)
    outcome = request.POST.get("outcome", "")
    if outcome not in OFFICE_STEP_OUTCOMES:
        messages.error(request, _("Choose one of the step's buttons."))
        return _dashboard(request, office, status=400)
    try:
        case_advance(case=case, step_id=step_id, outcome=outcome, actor=request.user)
    except CaseError as error:
        messages.error(request, error.message)
        return _dashboard(request, office, status=error.status)
    messages.success(request, _("Done. The case moved on."))
    return redirect("offices:dashboard")


def _month_from(request) -> tuple[int, int, str | None]:
    """(year, month, error) from ?year=&month= (any digits); the current month when absent."""
    year, month = current_jalali_month(timezone.now())
    raw_year, raw_month = request.GET.get("year"), request.GET.get("month")
    if raw_year is None and raw_month is None:
        return year, month, None
    try:
        year = int(to_ascii_digits(raw_year or str(year)).strip())
        month = int(to_ascii_digits(raw_month or str(month)).strip())
    except ValueError:
        return year, month, _("Enter the year and month as numbers, like 1404 and 1.")
    if not 1300 <= year <= 1500:
        return year, month, _("Enter a Jalali year between 1300 and 1500.")
    if not 1 <= month <= 12:
        return year, month, _("Enter a month from 1 to 12.")
    return year, month, None


def _statement_csv(office: Office, statement: dict) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            _("Paid at"),
            _("Tracking code"),
            _("Service"),
            _("Amount (Rials)"),
            _("Office share"),
            _("City share"),
        ]
    )
    for row in statement["rows"]:
        writer.writerow(
            [
                row["paid_at"].astimezone(dt.UTC).isoformat(),
                row["tracking_code"],
                row["service"],
                row["amount"],
                row["office_share"],
                row["city_share"],
            ]
        )
    writer.writerow(
        [_("Total"), "", "", statement["total"], statement["office_total"], statement["city_total"]]
    )
    # The BOM makes Excel read the file as UTF-8, so Persian text shows instead of mojibake.
    response = HttpResponse(
        ("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8"
    )
    filename = f"statement-{office.licence_number}-{statement['year']:04d}-{statement['month']:02d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@never_cache
@require_safe
@operator_required
def statement(request, *, office: Office):
    """`offices/statement/?year=1404&month=1[&format=csv]`: the fees paid on the office's cases in
    a Jalali month, with the office's and the city's shares."""
    year, month, error = _month_from(request)
    if error:
        return render(request, "offices/statement.html", {"office": office, "error": error}, status=400)
    result = office_statement(office, year=year, month=month)
    if request.GET.get("format") == "csv":
        return _statement_csv(office, result)
    return render(
        request,
        "offices/statement.html",
        {
            "office": office,
            "statement": result,
            "year": year,
            "month": month,
            "month_name": jalali_month_name(month),
            "months": [(number, jalali_month_name(number)) for number in range(1, 13)],
        },
    )


@never_cache
@require_safe
@oversight_required
def oversight(request):
    """`offices/oversight/`: every office with its licence, district, standing, volume and return
    rate over the last year."""
    since = timezone.now() - dt.timedelta(days=OVERSIGHT_WINDOW_DAYS)
    today = timezone.localdate()
    return render(
        request,
        "offices/oversight.html",
        {"rows": office_oversight(since=since), "today": today},
    )


@never_cache
@require_http_methods(["GET", "POST"])
@oversight_required
def oversight_office(request, licence_number: str):
    """`offices/oversight/<licence_number>/`: one office; administrators POST `action` = `suspend`
    (with `reason`) or `reinstate`."""
    office = get_object_or_404(Office.objects.select_related("district"), licence_number=licence_number)
    administrator = is_administrator(request.user)
    status = 200
    error = None
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "suspend":
                office_suspend(office=office, by=request.user, reason=request.POST.get("reason", ""))
                messages.success(request, _("The office is suspended."))
            elif action == "reinstate":
                office_reinstate(office=office, by=request.user)
                messages.success(request, _("The office is active again."))
            else:
                raise OfficeError("invalid_action", _("Choose suspend or reinstate."))
        except OfficeError as refused:
            error, status = refused.message, refused.status
        else:
            return redirect("offices:oversight_office", licence_number=office.licence_number)
    since = timezone.now() - dt.timedelta(days=OVERSIGHT_WINDOW_DAYS)
    row = next(item for item in office_oversight(since=since) if item["office"].pk == office.pk)
    days_left = (office.licence_expires_on - timezone.localdate()).days
    return render(
        request,
        "offices/oversight_office.html",
        {
            "office": office,
            "row": row,
            "licence": _licence(office, days_left),
            "administrator": administrator,
            "suspended": office.status == OfficeStatus.SUSPENDED,
            "error": error,
            "operators": office.operators.select_related("user").order_by("pk"),
        },
        status=status,
    )
