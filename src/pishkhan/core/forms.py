"""Form fields for Iranian identifiers.

Each field is a `forms.CharField` whose `to_python` normalises what was typed (Persian digits,
spaces, dashes) with the matching `core.validators.normalize_*` function, so `cleaned_data` holds
the stored ASCII form, or the field shows the validator's message. An empty optional field
cleans to "". The widget asks phones for the digit keypad and keeps the digits left-to-right
inside a right-to-left page."""

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError

from . import validators
from .calendar import parse_jalali, to_jalali


class _IdentifierField(forms.CharField):
    """A CharField that normalises and validates with `normalize`."""

    # A staticmethod so subclasses name the function without it binding to the field.
    normalize = staticmethod(lambda value: value)
    input_mode = "numeric"
    autocomplete = "off"

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return self.empty_value
        return self.normalize(value)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update({"inputmode": self.input_mode, "dir": "ltr", "autocomplete": self.autocomplete})
        return attrs


class NationalIdField(_IdentifierField):
    """National ID (کد ملی): cleans to 10 ASCII digits."""

    normalize = staticmethod(validators.normalize_national_id)


class LegalEntityIdField(_IdentifierField):
    """Legal-entity national ID (شناسه ملی): cleans to 11 ASCII digits."""

    normalize = staticmethod(validators.normalize_legal_entity_id)


class MobileField(_IdentifierField):
    """Iranian mobile number: cleans to `09` + 9 digits. The numeric keypad has no `+`, which is
    fine: the national form 09… is what people type."""

    normalize = staticmethod(validators.normalize_mobile)
    autocomplete = "tel"


class PostalCodeField(_IdentifierField):
    """Postal code: cleans to 10 ASCII digits (official rule only; see
    `validators.postal_code_warnings` for the folklore patterns worth a warning)."""

    normalize = staticmethod(validators.normalize_postal_code)
    autocomplete = "postal-code"


class IbanField(_IdentifierField):
    """IBAN (شبا): cleans to `IR` + 24 digits. The numeric keypad suits it because the field also
    accepts the 24 digits without `IR`, as Iranian forms print the prefix beside the box."""

    normalize = staticmethod(validators.normalize_iban)


class JalaliDateField(forms.CharField):
    """A date typed in the Jalali calendar (`1404/01/05`, Persian digits welcome): cleans to a
    Gregorian `datetime.date`, shows a date value back as Jalali `YYYY/MM/DD`. A date that does
    not exist (1404/12/30) is refused with the reason."""

    def prepare_value(self, value):
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return to_jalali(value).strftime("%Y/%m/%d")
        return value

    def to_python(self, value):
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            return parse_jalali(value)
        except ValueError as error:
            raise ValidationError(str(error), code="invalid_date") from None

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update({"dir": "ltr", "placeholder": "1404/01/05", "autocomplete": "off"})
        return attrs
