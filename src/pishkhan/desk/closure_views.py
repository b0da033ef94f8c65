"""The office closures page of the staff desk (`desk/closures/`): the days deadlines skip besides
the weekend and the holidays, and a form to record one or take one back. Managers bound
city-wide only (desk.access.may_announce_closures).

Each change is audited (core.services.closure_announce / closure_withdraw) and changes the
calendar's token; the worker's deadline sweep then recomputes the open deadlines in short
batches (cases.sweep, ADR 0012), so the request never waits for a city's worth of cases."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pishkhan.cases.sweep import deadlines_behind
from pishkhan.core.models import Closure
from pishkhan.core.ratelimit import client_address
from pishkhan.core.services import closure_announce, closure_withdraw

from .access import forbidden, header_links, may_announce_closures, staff_required
from .forms import ClosureForm

PAST_SHOWN = 10  # recent closures listed under the coming ones


def _refused(request):
    return forbidden(request, _("Only a manager bound city-wide may record office closures."))


@staff_required
def closures(request):
    """The coming closures, the last few past ones, and the form to record one."""
    if not may_announce_closures(request.user):
        return _refused(request)
    form = ClosureForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                closure_announce(
                    date=form.cleaned_data["date"],
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                    address=client_address(request),
                )
            except ValidationError as error:
                form.add_error("date" if error.code == "closure_exists" else None, error)
            else:
                messages.success(
                    request,
                    _(
                        "The closure was recorded. The deadline sweep recomputes the open deadlines within minutes."
                    ),
                )
                return redirect("desk:closures")
        return _page(request, form, status=400)
    return _page(request, form)


@require_POST
@staff_required
def closure_remove(request, closure_id: int):
    """Take a recorded closure back (a mistaken day, a closure called off)."""
    if not may_announce_closures(request.user):
        return _refused(request)
    closure = Closure.objects.filter(pk=closure_id).first()
    if closure is None:  # taken back meanwhile (a second click, another manager)
        return redirect("desk:closures")
    try:
        closure_withdraw(date=closure.date, by=request.user, address=client_address(request))
    except ValidationError:  # the same, between the read and the delete
        return redirect("desk:closures")
    messages.success(
        request,
        _("The closure was taken back. The deadline sweep recomputes the open deadlines within minutes."),
    )
    return redirect("desk:closures")


def _page(request, form, *, status: int = 200):
    today = timezone.localdate()
    context = {
        "form": form,
        "coming": Closure.objects.filter(date__gte=today).order_by("date"),
        "past": Closure.objects.filter(date__lt=today).order_by("-date")[:PAST_SHOWN],
        "recomputing": deadlines_behind(),
        **header_links(request.user),
    }
    return render(request, "desk/closures.html", context, status=status)
