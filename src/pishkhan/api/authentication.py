"""Who is calling the API.

Two ways in, tried in this order:

- **Token** (`Authorization: Token <key>`): for integrations — an office's software, another city
  system. Tokens belong to staff or office-operator accounts (often a service account made for the
  purpose) and are made by an administrator with `pishkhan manage api_token USERNAME`, which prints
  the key once. Citizens get no tokens: they sign in on the website with an SMS code, and a
  long-lived secret on a phone would outlive that sign-in. A token stands in for the password and
  the authenticator both, so it is kept like a password and rotated (`--rotate`) when a person
  leaves. Token requests need no CSRF token: nothing a browser sends by itself carries the header.
- **Session**: the website's sign-in, for the interactive docs and the site's own scripts. DRF
  checks the CSRF token on every unsafe (POST …) request of a session.

Token comes first so that an anonymous request is answered 401 with `WWW-Authenticate: Token`
(DRF takes the header from the first class; a session has none and would make it a 403)."""

from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from pishkhan.accounts.models import UserKind


class IntegrationTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, refusing tokens of citizen accounts (one may have been made in
    the admin by mistake); inactive accounts are refused by DRF already."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if user.kind == UserKind.CITIZEN:
            raise AuthenticationFailed(
                _("API tokens are for staff and office accounts; citizens sign in on the website.")
            )
        return user, token


API_AUTHENTICATION = [IntegrationTokenAuthentication, SessionAuthentication]
