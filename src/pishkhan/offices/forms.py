"""The public directory's search: a district to narrow the list to, a licence number to check."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from pishkhan.core.text import to_ascii_digits

LICENCE_MAX_LENGTH = 40  # Office.licence_number
LICENCE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9/-]*")


class OfficeDirectoryForm(forms.Form):
    """`district`: the code of a district the directory lists offices in; `licence`: a licence
    number as printed on an office's licence (Persian digits welcome)."""

    district = forms.ChoiceField(
        label=_("District"),
        required=False,
        error_messages={
            "invalid_choice": _("There is no district “%(value)s” with an office; choose one from the list.")
        },
    )
    licence = forms.CharField(
        label=_("Licence number"),
        required=False,
        strip=True,
        widget=forms.TextInput(
            attrs={
                "maxlength": LICENCE_MAX_LENGTH,
                "dir": "ltr",
                "autocomplete": "off",
                "spellcheck": "false",
            }
        ),
    )

    def __init__(self, *args, districts: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].choices = [("", _("All districts")), *districts]

    def clean_licence(self) -> str:
        licence = to_ascii_digits(self.cleaned_data["licence"])
        if not licence:
            return ""
        if len(licence) > LICENCE_MAX_LENGTH or not LICENCE_PATTERN.fullmatch(licence):
            raise ValidationError(
                _(
                    "A licence number has only Latin letters, digits, hyphens and slashes, as printed on "
                    "the office's licence (for example EO-101)."
                ),
                code="invalid",
            )
        return licence
