"""Reads about people. Every query the views or other apps need lives here, named for what it
returns."""

from django.db.models import QuerySet
from django.utils.translation import get_language

from .models import District, RoleBinding, SignInCode, User, UserKind


def district_name(district: District) -> str:
    """The district's name in the active language."""
    english = (get_language() or "fa").startswith("en")
    return district.name_en if english and district.name_en else district.name_fa


def user_by_mobile(*, mobile: str) -> User | None:
    """The account with this normalised mobile, or None."""
    return User.objects.filter(mobile=mobile).first()


def user_by_username(*, username: str) -> User | None:
    """The account with exactly this username, or None."""
    if not username:
        return None
    return User.objects.filter(username=username).first()


def signin_code_latest(*, mobile: str) -> SignInCode | None:
    """The most recent sign-in code sent to a normalised mobile (used or not), or None. Only this
    one can sign in: each new code replaces the ones before it."""
    return SignInCode.objects.filter(mobile=mobile).order_by("-created_at", "-pk").first()


def citizen_profile_is_complete(*, user: User) -> bool:
    """True for a citizen whose national ID is recorded, and for every non-citizen account."""
    return user.kind != UserKind.CITIZEN or bool(user.national_id)


# Where each kind of account starts after signing in with no `next`: the page its work is on.
# URL names rather than imports: the portal, desk and offices apps sit above accounts.
START_PAGES = {
    UserKind.CITIZEN: "portal:my_cases",
    UserKind.OPERATOR: "offices:dashboard",
    UserKind.STAFF: "desk:home",  # the desk sends each member on to their queue or role's page
}


def start_page_for(*, user: User) -> str:
    """The URL name a person lands on after signing in when no page asked for the sign-in: a
    citizen's cases, an operator's office dashboard, a staff member's desk."""
    return START_PAGES.get(user.kind, "core:home")


def role_bindings_for(*, user: User) -> QuerySet[RoleBinding]:
    """A person's role bindings with their role, district and department loaded."""
    return RoleBinding.objects.filter(user=user).select_related("role", "district", "department")


def citizen_personal_data(*, user: User) -> dict:
    """What the city keeps about a citizen's account, as JSON-ready values (dates in ISO 8601,
    UTC). Cases and documents are exported by their own apps."""

    def iso(value):
        return value.isoformat() if value else None

    return {
        "format": "pishkhan.personal-data/1",
        "account": {
            "username": user.username,
            "kind": user.kind,
            "mobile": user.mobile,
            "national_id": user.national_id,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "date_joined": iso(user.date_joined),
            "last_login": iso(user.last_login),
        },
    }
