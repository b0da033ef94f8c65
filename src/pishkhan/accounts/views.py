"""Sign-in pages. Thin: forms check the shape of the input, services decide, and an
AccountsError becomes a message on the form with the status the service chose (400, 403, 429,
503), the page re-rendered with what was typed."""

import time

import segno
from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from pishkhan.core.ratelimit import client_address

from . import selectors, services
from .forms import MobileForm, NationalIdForm, SignInCodeForm, StaffPasswordForm, TotpForm
from .models import User, UserKind

SIGNIN_MOBILE = "accounts.signin_mobile"  # the normalised number a code was sent to
SIGNIN_NEXT = "accounts.signin_next"  # where to go once signed in
# The half-signed-in marker: password accepted, authenticator code not yet. Holds the user's id,
# when the password was accepted, and the session hash of the password, so a password change in
# between voids it.
STAFF_PENDING = "accounts.staff_pending"
# Long enough to install an authenticator app during enrolment, short enough that a forgotten
# half-signed-in browser is useless soon.
STAFF_PENDING_SECONDS = 10 * 60


def _safe_next(request, candidate) -> str | None:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return None


def _remember_next(request) -> None:
    if nxt := _safe_next(request, request.POST.get("next") or request.GET.get("next")):
        request.session[SIGNIN_NEXT] = nxt


def _next_url(request, user: User) -> str:
    """The page that asked for the sign-in, or else the person's own start page."""
    return _safe_next(request, request.session.get(SIGNIN_NEXT)) or resolve_url(
        selectors.start_page_for(user=user)
    )


def _login(request, user: User) -> str:
    """Sign `user` in for this browser; return where to go next. login() rotates the session key,
    so an identifier seen before sign-in is worthless after it."""
    destination = _next_url(request, user)
    login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
    for key in (SIGNIN_MOBILE, SIGNIN_NEXT, STAFF_PENDING):
        request.session.pop(key, None)
    return destination


# --- Citizens ----------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def citizen_signin(request):
    """Step 1: the mobile number. A valid number gets a code by SMS and goes to step 2."""
    _remember_next(request)
    status = 200
    if request.method == "POST":
        form = MobileForm(request.POST)
        if form.is_valid():
            mobile = form.cleaned_data["mobile"]
            try:
                services.signin_code_send(mobile=mobile, address=client_address(request))
            except services.SignInError as error:
                form.add_error("mobile", error.message)
                status = error.status
            else:
                request.session[SIGNIN_MOBILE] = mobile
                return redirect("accounts:citizen_signin_code")
        else:
            status = 400
    else:
        form = MobileForm()
    return render(request, "accounts/signin.html", {"form": form}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def citizen_signin_code(request):
    """Step 2: the code from the SMS, or "send again" (same rate limits as step 1)."""
    mobile = request.session.get(SIGNIN_MOBILE)
    if not mobile:
        return redirect("accounts:citizen_signin")
    status, page_errors, notice = 200, [], ""
    form = SignInCodeForm()
    address = client_address(request)
    if request.method == "POST" and request.POST.get("action") == "resend":
        try:
            services.signin_code_send(mobile=mobile, address=address)
        except services.SignInError as error:
            page_errors.append(error.message)
            status = error.status
        else:
            notice = _("A new code has been sent. Only the newest code works.")
    elif request.method == "POST":
        form = SignInCodeForm(request.POST)
        if form.is_valid():
            try:
                user = services.signin_code_verify(
                    mobile=mobile, code=form.cleaned_data["code"], address=address
                )
            except services.SignInError as error:
                form.add_error("code", error.message)
                status = error.status
            else:
                destination = _login(request, user)
                if not selectors.citizen_profile_is_complete(user=user):
                    return redirect(
                        f"{reverse('accounts:citizen_profile')}?{urlencode({'next': destination})}"
                    )
                return HttpResponseRedirect(destination)
        else:
            status = 400
    context = {
        "form": form,
        "mobile": mobile,
        "page_errors": page_errors,
        "notice": notice,
        "ttl_minutes": max(1, settings.SIGNIN_CODE_TTL_SECONDS // 60),
    }
    return render(request, "accounts/signin_code.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def citizen_profile(request):
    """After the first sign-in: the national ID, asked once, then on to `next`."""
    user = request.user
    if user.kind != UserKind.CITIZEN:
        raise PermissionDenied
    destination = _safe_next(request, request.POST.get("next") or request.GET.get("next")) or resolve_url(
        selectors.start_page_for(user=user)
    )
    if user.national_id:
        return HttpResponseRedirect(destination)
    status = 200
    if request.method == "POST":
        form = NationalIdForm(request.POST)
        if form.is_valid():
            try:
                services.citizen_national_id_set(user=user, national_id=form.cleaned_data["national_id"])
            except services.ProfileError as error:
                form.add_error("national_id", error.message)
                status = error.status
            else:
                return HttpResponseRedirect(destination)
        else:
            status = 400
    else:
        form = NationalIdForm()
    return render(request, "accounts/profile.html", {"form": form, "next": destination}, status=status)


@login_required
@require_http_methods(["GET"])
def personal_data_download(request):
    """A citizen's own account data as a JSON file (audited)."""
    try:
        data = services.personal_data_export(user=request.user, address=client_address(request))
    except services.ProfileError as error:
        raise PermissionDenied(error.message) from None
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["Content-Disposition"] = 'attachment; filename="pishkhan-my-data.json"'
    response["Cache-Control"] = "no-store"
    return response


# --- Staff and office operators ----------------------------------------------------------------


def _pending_staff(request) -> User | None:
    """The staff member whose password this browser passed, if that was recently, else None."""
    pending = request.session.get(STAFF_PENDING)
    if not isinstance(pending, dict):
        return None
    user = User.objects.filter(pk=pending.get("user"), kind__in=services.STAFF_KINDS, is_active=True).first()
    fresh = time.time() - pending.get("since", 0) < STAFF_PENDING_SECONDS
    if user is None or not fresh or pending.get("hash") != user.get_session_auth_hash():
        request.session.pop(STAFF_PENDING, None)
        return None
    return user


@never_cache
@require_http_methods(["GET", "POST"])
def staff_signin(request):
    """Staff step 1: username and password. Never signs in on its own."""
    _remember_next(request)
    status = 200
    if request.method == "POST":
        form = StaffPasswordForm(request.POST)
        if form.is_valid():
            try:
                user = services.staff_password_check(
                    username=form.cleaned_data["username"],
                    password=form.cleaned_data["password"],
                    address=client_address(request),
                )
            except services.SignInError as error:
                form.add_error(None, error.message)
                status = error.status
            else:
                # A new session key for the half-signed-in state, and again at login().
                request.session.cycle_key()
                request.session[STAFF_PENDING] = {
                    "user": user.pk,
                    "since": time.time(),
                    "hash": user.get_session_auth_hash(),
                }
                if user.totp_confirmed:
                    return redirect("accounts:staff_signin_totp")
                return redirect("accounts:staff_enrol")
        else:
            status = 400
    else:
        form = StaffPasswordForm()
    return render(request, "accounts/staff_signin.html", {"form": form}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def staff_signin_totp(request):
    """Staff step 2: the code from the authenticator app."""
    user = _pending_staff(request)
    if user is None:
        return redirect("accounts:staff_signin")
    if not user.totp_confirmed:
        return redirect("accounts:staff_enrol")
    form, status, done = _authenticator_code_form(request, user, services.staff_totp_verify)
    if done:
        return done
    return render(request, "accounts/staff_totp.html", {"form": form}, status=status)


def _authenticator_code_form(request, user, check):
    """The code form of the two authenticator pages. On a valid POST, `check(user=, code=, address=)`
    runs and the person is signed in. Returns (form, status, redirect-or-None)."""
    if request.method != "POST":
        return TotpForm(), 200, None
    form = TotpForm(request.POST)
    if not form.is_valid():
        return form, 400, None
    try:
        check(user=user, code=form.cleaned_data["code"], address=client_address(request))
    except services.SignInError as error:
        form.add_error("code", error.message)
        return form, error.status, None
    return form, 200, HttpResponseRedirect(_login(request, user))


@never_cache
@require_http_methods(["GET", "POST"])
def staff_enrol(request):
    """First staff sign-in: set up the authenticator app (QR code and secret), confirmed by a code."""
    user = _pending_staff(request)
    if user is None:
        return redirect("accounts:staff_signin")
    if user.totp_confirmed:
        return redirect("accounts:staff_signin_totp")
    uri = services.staff_totp_enrol(user=user)
    form, status, done = _authenticator_code_form(request, user, services.staff_totp_confirm)
    if done:
        return done
    # Drawn here as inline SVG: the secret never leaves the server for a QR-code web service.
    qr_svg = segno.make(uri, error="m").svg_inline(
        scale=5, border=4, dark="#000", light="#fff", title=_("QR code for your authenticator app")
    )
    secret = user.totp_secret
    context = {
        "form": form,
        "qr_svg": qr_svg,
        "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
        "issuer": settings.TOTP_ISSUER,
        "username": user.username,
    }
    return render(request, "accounts/staff_enrol.html", context, status=status)


@require_POST
def signout(request):
    """Sign out (POST only, so a link or an image on another site cannot sign anyone out)."""
    logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL or "core:home")
