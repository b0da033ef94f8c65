"""Sign-in and profile forms. They check the shape of what was typed; the rules (limits,
lockouts, uniqueness) are in services.py and come back as AccountsError, which the views attach
to the form with `add_error`, so the page re-renders with what the person typed."""

from django import forms
from django.utils.translation import gettext_lazy as _

from pishkhan.core.forms import MobileField, NationalIdField
from pishkhan.core.text import to_ascii_digits


class OneTimeCodeField(forms.CharField):
    """A 6-digit one-time code (SMS or authenticator app). Persian and Arabic-Indic digits,
    spaces and dashes are accepted; cleans to 6 ASCII digits. The widget asks for the digit keypad
    and lets phones fill in the code from the text message."""

    default_error_messages = {
        "invalid": _("The code has 6 digits; type it as it appears."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 20)  # room for spaces and dashes people type between digits
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return self.empty_value
        digits = "".join(ch for ch in to_ascii_digits(value) if not ch.isspace() and ch != "-")
        if len(digits) != 6 or not (digits.isascii() and digits.isdigit()):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return digits

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update({"autocomplete": "one-time-code", "inputmode": "numeric", "dir": "ltr"})
        return attrs


class MobileForm(forms.Form):
    mobile = MobileField(
        label=_("Mobile number"),
        max_length=30,
        help_text=_("We will send a 6-digit sign-in code to this number, e.g. 0912 123 4567."),
        error_messages={"required": _("Enter your mobile number.")},
    )


class SignInCodeForm(forms.Form):
    code = OneTimeCodeField(label=_("Sign-in code"), error_messages={"required": _("Enter the code.")})


class NationalIdForm(forms.Form):
    national_id = NationalIdField(
        label=_("National ID"),
        max_length=30,
        help_text=_("The 10 digits on your national card, with any leading zeros."),
        error_messages={"required": _("Enter your national ID.")},
    )


class StaffPasswordForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none", "dir": "ltr"}),
        error_messages={"required": _("Enter your username.")},
    )
    # The typed password is never sent back in the page (render_value stays False).
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Enter your password.")},
    )


class TotpForm(forms.Form):
    code = OneTimeCodeField(
        label=_("Code from your authenticator app"),
        help_text=_("Six digits; a new code appears every 30 seconds."),
        error_messages={"required": _("Enter the code.")},
    )
