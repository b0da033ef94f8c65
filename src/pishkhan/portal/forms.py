"""The portal's forms: the search box and the fee estimate (GET forms: a question whose answer can
be bookmarked and shared), anonymous tracking (POST: it carries a national ID), and the case
page's upload and withdrawal."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from pishkhan.cases.tracking import tracking_code_normalize
from pishkhan.catalog.definition import Field
from pishkhan.core.text import localize_digits, to_ascii_digits

QUERY_MAX_LENGTH = 100
CATEGORY_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,59}$")


class ServiceSearchForm(forms.Form):
    """`q`: words to look for (folded by the selector, so Arabic and Persian letters meet);
    `category`: one category code from the list the page offers."""

    q = forms.CharField(
        label=_("Find a service"),
        required=False,
        strip=True,
        widget=forms.TextInput(
            attrs={
                "id": "service-search",
                "type": "search",
                "maxlength": QUERY_MAX_LENGTH,
                "placeholder": _("For example: building permit"),
                "autocomplete": "off",
            }
        ),
    )
    category = forms.CharField(required=False, max_length=60)

    def __init__(self, *args, categories: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.categories = categories

    def clean_q(self):
        query = self.cleaned_data["q"]
        if len(query) > QUERY_MAX_LENGTH:
            raise ValidationError(
                _("Please type at most %(limit)s characters; a few words are enough.")
                % {"limit": localize_digits(QUERY_MAX_LENGTH)},
                code="max_length",
            )
        return query

    def clean_category(self):
        category = self.cleaned_data["category"]
        if category and (not CATEGORY_PATTERN.match(category) or category not in self.categories):
            raise ValidationError(
                _("There is no such group of services; choose one from the list below."), code="unknown"
            )
        return category


class LocalizedNumberField(forms.DecimalField):
    """A number typed with Persian, Arabic or Latin digits and either decimal separator
    (`۱۲۰٫۵`, `120.5`); thousands separators are dropped. Cleans to a Decimal. A text box, not
    type=number: a number box shows Persian digits as empty and refuses them in some browsers."""

    widget = forms.TextInput

    def to_python(self, value):
        if isinstance(value, str):
            value = to_ascii_digits(value).strip()
            value = value.replace("\u066b", ".").replace("\u066c", "").replace(",", "").replace("\u060c", "")
        return super().to_python(value)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.pop("step", None)
        attrs.pop("min", None)
        attrs.pop("max", None)
        attrs.update({"inputmode": "decimal", "dir": "ltr", "autocomplete": "off"})
        return attrs


def _number_message(field: Field) -> str:
    def shown(value):
        return localize_digits(f"{value:g}" if isinstance(value, float) else str(value))

    if field.min is not None and field.max is not None:
        return _("Type a number from %(min)s to %(max)s.") % {
            "min": shown(field.min),
            "max": shown(field.max),
        }
    if field.min is not None:
        return _("Type a number of at least %(min)s.") % {"min": shown(field.min)}
    if field.max is not None:
        return _("Type a number of at most %(max)s.") % {"max": shown(field.max)}
    return _("Type a number.")


class FeeEstimateForm(forms.Form):
    """The answers a fee estimate needs, one form field per process field the fees read: numbers
    (with the field's bounds), choices and yes/no questions. `values()` gives them as the
    expressions expect: int when whole, else float; text for choices; bool for yes/no."""

    prefix = "fee"

    def __init__(self, *args, questions: list[Field], language: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = {q.id: q for q in questions}
        for question in questions:
            label = question.label.get(language)
            help_text = question.help.get(language) if question.help else ""
            if question.type in ("number", "money"):
                message = _number_message(question)
                self.fields[question.id] = LocalizedNumberField(
                    label=label,
                    help_text=help_text,
                    min_value=Decimal(str(question.min)) if question.min is not None else None,
                    max_value=Decimal(str(question.max)) if question.max is not None else None,
                    max_digits=18,
                    decimal_places=None if question.type == "number" else 0,
                    error_messages={
                        "required": _("Please answer this question; the amount depends on it."),
                        "invalid": message,
                        "min_value": message,
                        "max_value": message,
                        "max_digits": message,
                        "max_whole_digits": message,
                        "max_decimal_places": _("Type a whole number of Rials."),
                    },
                )
            elif question.type == "choice":
                self.fields[question.id] = forms.ChoiceField(
                    label=label,
                    help_text=help_text,
                    choices=[
                        ("", _("Choose…")),
                        *((o.value, o.label.get(language)) for o in question.options),
                    ],
                    error_messages={
                        "required": _("Please choose one; the amount depends on it."),
                        "invalid_choice": _("Please choose one of the options in the list."),
                    },
                )
            elif question.type == "boolean":
                self.fields[question.id] = forms.BooleanField(
                    label=label, help_text=help_text, required=False
                )

    def values(self) -> dict:
        """The cleaned answers as expression values (call after is_valid())."""
        values = {}
        for name, value in self.cleaned_data.items():
            if isinstance(value, Decimal):
                try:
                    values[name] = int(value) if value == value.to_integral_value() else float(value)
                except (InvalidOperation, OverflowError, ValueError):
                    values[name] = float(value)
            else:
                values[name] = value
        return values


class TrackForm(forms.Form):
    """Anonymous tracking: a tracking code and the applicant's national ID or mobile (any digits,
    spaces or dashes). A POST form: the national ID must stay out of URLs and server logs."""

    tracking_code = forms.CharField(
        label=_("Tracking code"),
        max_length=40,
        strip=True,
        error_messages={"required": _("Type the tracking code you were given when you applied.")},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "dir": "ltr", "autocomplete": "off", "maxlength": 40}
        ),
    )
    second_factor = forms.CharField(
        label=_("National ID or mobile number of the applicant"),
        max_length=40,
        strip=True,
        error_messages={"required": _("Type the applicant's national ID or mobile number.")},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "dir": "ltr", "autocomplete": "off", "maxlength": 40}
        ),
    )

    def clean_tracking_code(self):
        code = tracking_code_normalize(self.cleaned_data["tracking_code"])
        if code is None:
            # The check digit is public arithmetic: saying a code is mistyped reveals no case.
            raise ValidationError(
                _("A tracking code has 12 digits and this one is not valid; check it and type it again."),
                code="invalid",
            )
        return code


class CaseDocumentForm(forms.Form):
    """One missing document of a correction request, uploaded from the case page."""

    document_type = forms.CharField(max_length=60)
    file = forms.FileField(error_messages={"required": _("Choose the file to upload.")})


class CaseWithdrawForm(forms.Form):
    """Withdrawing is final: the box must be ticked."""

    confirm = forms.BooleanField(
        label=_("I understand that a withdrawn case cannot be reopened."),
        error_messages={"required": _("Tick the box to confirm that you want to withdraw this case.")},
    )
    reason = forms.CharField(label=_("Why (optional)"), required=False, max_length=500, strip=True)
