"""Forms of the staff desk: editing a draft's steps and documents, the draft's note, importing
a file, and in the inbox recording a site visit and signing. They check the shape of what was
typed; whether the process still holds together is catalog.services' job (version_update_draft
validates the whole definition), and its problems are put back on these forms by desk.editing;
the engine's refusals of a visit or a signature are put back by desk.inbox_views."""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from pishkhan.accounts.forms import OneTimeCodeField
from pishkhan.cases.documents import INSPECTION_PHOTO_DOCUMENT, MAX_INSPECTION_PHOTOS
from pishkhan.catalog.loader import MAX_FILE_BYTES
from pishkhan.core.forms import JalaliDateField
from pishkhan.core.text import localize_digits, to_ascii_digits

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
DOCUMENT_FORMATS = ("pdf", "jpg", "png", "tiff", "dwg", "zip")
IMPORT_SUFFIXES = (".yaml", ".yml", ".bpmn", ".xml")
MAX_DEADLINE_DAYS = 3650
MAX_DOCUMENT_MB = 500


class NumberField(forms.DecimalField):
    """A number typed with Persian, Arabic or Latin digits; the decimal separator may be `٫`. A
    text box: a type=number box shows Persian digits as empty."""

    widget = forms.TextInput

    def to_python(self, value):
        if isinstance(value, str):
            value = to_ascii_digits(value).strip().replace("\u066b", ".")
        return super().to_python(value)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        for name in ("step", "min", "max"):
            attrs.pop(name, None)
        attrs.update({"inputmode": "decimal", "dir": "ltr", "autocomplete": "off"})
        return attrs


def plain_number(value: Decimal) -> int | float:
    """7 for Decimal("7.0"), 2.5 for Decimal("2.5"): what the definition stores."""
    return int(value) if value == value.to_integral_value() else float(value)


class StepForm(forms.Form):
    """One work step of a draft."""

    id = forms.CharField(widget=forms.HiddenInput)
    title_fa = forms.CharField(
        label=_("Title (Persian)"),
        max_length=300,
        error_messages={"required": _("Every step needs a Persian title.")},
        widget=forms.Textarea(attrs={"rows": 2, "dir": "rtl", "lang": "fa"}),
    )
    title_en = forms.CharField(
        label=_("Title (English)"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "dir": "ltr", "lang": "en"}),
    )
    role = forms.ChoiceField(label=_("Role"))
    deadline_days = NumberField(
        label=_("Deadline (working days)"),
        min_value=0,
        max_value=MAX_DEADLINE_DAYS,
        max_digits=7,
        decimal_places=1,
        error_messages={
            "required": _("Give the step a deadline in working days (0 for an automatic step)."),
            "invalid": _("Type a number of working days, e.g. 3 or 0.5."),
            "min_value": _("A deadline cannot be negative."),
            "max_value": _("A deadline of more than %(limit_value)s working days is not a deadline."),
            "max_decimal_places": _("Use at most one decimal place (half a day is 0.5)."),
        },
    )
    discretionary = forms.BooleanField(label=_("Discretionary (no legal basis)"), required=False)
    signature = forms.BooleanField(label=_("Someone signs here"), required=False)
    remove = forms.BooleanField(label=_("Remove this step"), required=False)

    def __init__(self, *args, role_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = list(role_choices)

    def clean_id(self):
        value = self.cleaned_data["id"]
        if not ID_PATTERN.match(value):
            raise ValidationError(_("This step is not part of the draft."), code="unknown_step")
        return value


class DocumentForm(forms.Form):
    """One document a draft asks for; the blank extra form adds a new one."""

    id = forms.CharField(
        label=_("Identifier"),
        max_length=60,
        required=False,
        help_text=_("Lowercase Latin letters, digits and _, e.g. site_plan."),
        widget=forms.TextInput(attrs={"dir": "ltr", "autocomplete": "off"}),
    )
    title_fa = forms.CharField(
        label=_("Title (Persian)"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"dir": "rtl", "lang": "fa"}),
    )
    title_en = forms.CharField(
        label=_("Title (English)"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"dir": "ltr", "lang": "en"}),
    )
    formats = forms.MultipleChoiceField(
        label=_("Accepted formats"),
        choices=[(f, f.upper()) for f in DOCUMENT_FORMATS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    max_size_mb = NumberField(
        label=_("Largest file (MB)"),
        min_value=Decimal("0.1"),
        max_value=MAX_DOCUMENT_MB,
        max_digits=6,
        decimal_places=1,
        required=False,
        error_messages={
            "invalid": _("Type a size in megabytes, e.g. 10."),
            "min_value": _("The limit must be at least 0.1 MB."),
            "max_value": _("At most %(limit_value)s MB."),
        },
    )
    step = forms.ChoiceField(label=_("Asked at step"), required=False)
    required = forms.BooleanField(label=_("Required"), required=False)
    remove = forms.BooleanField(label=_("Remove this document"), required=False)

    def __init__(self, *args, step_choices=(), existing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.existing = existing
        self.fields["step"].choices = [("", _("Choose a step…")), *step_choices]
        if existing:
            self.fields["id"].widget = forms.HiddenInput()

    def has_content(self) -> bool:
        """False for the blank extra form left blank: it adds nothing."""
        data = self.cleaned_data
        return bool(data.get("id") or data.get("title_fa") or data.get("title_en"))

    def clean(self):
        data = super().clean()
        if data.get("remove") or (not self.existing and not self.has_content()):
            return data
        if not data.get("id"):
            self.add_error("id", _("Give the document an identifier."))
        elif not ID_PATTERN.match(data["id"]):
            self.add_error("id", _("Use lowercase Latin letters, digits and _ only, starting with a letter."))
        if not data.get("title_fa"):
            self.add_error("title_fa", _("Every document needs a Persian title."))
        if not data.get("formats"):
            self.add_error("formats", _("Tick at least one format."))
        if data.get("max_size_mb") is None and "max_size_mb" not in self.errors:
            self.add_error("max_size_mb", _("Give the largest file size in megabytes."))
        if not data.get("step"):
            self.add_error("step", _("Choose the step that checks this document."))
        return data


class BaseDocumentFormSet(forms.BaseFormSet):
    """The documents of a draft: one form per document it has, then a blank one to add another."""

    def get_form_kwargs(self, index):
        kwargs = super().get_form_kwargs(index)
        kwargs["existing"] = index is not None and index < len(self.initial or [])
        return kwargs

    def clean(self):
        if any(self.errors):
            return
        seen = set()
        for form in self.forms:
            data = form.cleaned_data
            if not data or data.get("remove") or not form.has_content():
                continue
            if data["id"] in seen:
                form.add_error("id", _("Another document has this identifier."))
            seen.add(data["id"])


StepFormSet = forms.formset_factory(StepForm, extra=0, max_num=1000, absolute_max=1000, validate_max=True)
DocumentFormSet = forms.formset_factory(
    DocumentForm, formset=BaseDocumentFormSet, extra=1, max_num=200, absolute_max=201, validate_max=True
)


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("What changed and why"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept with the version, for the people who review it."),
    )


class ImportForm(forms.Form):
    """A YAML or BPMN definition to import as a new draft."""

    file = forms.FileField(
        label=_("Definition file"),
        help_text=_(
            "A YAML file in the pishkhan/process/1 format, or a BPMN 2.0 diagram (.bpmn), at most 2 MB."
        ),
        error_messages={
            "required": _("Choose a file to import."),
            "empty": _("The file is empty."),
            "invalid": _("No file was received; choose it again."),
        },
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(IMPORT_SUFFIXES)}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        name = (upload.name or "").lower()
        if not name.endswith(IMPORT_SUFFIXES):
            raise ValidationError(_("Choose a YAML (.yaml, .yml) or BPMN (.bpmn, .xml) file."), code="suffix")
        if upload.size > MAX_FILE_BYTES:
            raise ValidationError(
                _("The file is larger than %(limit)s MB; a definition is far smaller.")
                % {"limit": MAX_FILE_BYTES // (1024 * 1024)},
                code="too_large",
            )
        return upload


# --- the staff inbox: recording a site visit, signing ----------------------------------------


class PhotoInput(forms.FileInput):
    """A file input for several photos that asks a phone for its back camera. `accept` only
    steers the phone's picker; cases.documents checks each file by its content."""

    allow_multiple_selected = True

    def __init__(self, attrs=None):
        super().__init__({"accept": "image/*", "capture": "environment", "multiple": True, **(attrs or {})})


class PhotosField(forms.FileField):
    """Zero or more uploaded photos, as a list (the content checks are the engine's)."""

    widget = PhotoInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        return [super(PhotosField, self).clean(upload, initial) for upload in files if upload]


class InspectionForm(forms.Form):
    """What an inspector records of a site visit: findings, where, and photos taken there. The
    form checks the shape; cases.inspections checks the rest (a place inside Iran, each photo's
    content) and its refusals are put back on these fields."""

    findings = forms.CharField(
        label=_("What you found on site"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("Write what you found on site.")},
    )
    latitude = NumberField(
        label=_("Latitude"),
        required=False,
        help_text=_("e.g. 35.6892"),
        error_messages={"invalid": _("Type the latitude as a number, e.g. 35.6892.")},
    )
    longitude = NumberField(
        label=_("Longitude"),
        required=False,
        help_text=_("e.g. 51.3890"),
        error_messages={"invalid": _("Type the longitude as a number, e.g. 51.3890.")},
    )
    # Filled by the geolocation button with what the phone reports, in metres; never typed.
    accuracy = NumberField(required=False, widget=forms.HiddenInput)
    location_source = forms.ChoiceField(
        choices=[("typed", "typed"), ("device", "device")], required=False, widget=forms.HiddenInput
    )
    photos = PhotosField(label=_("Photos taken on site (optional)"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The limits are the engine's (cases.documents); said here in the page's digits.
        self.fields["photos"].help_text = _(
            "Taken with the phone's camera on site (on a computer, choose the files): JPEG or PNG, "
            "up to %(count)s photos of at most %(size)s MB each."
        ) % {
            "count": localize_digits(MAX_INSPECTION_PHOTOS),
            "size": localize_digits(int(INSPECTION_PHOTO_DOCUMENT.max_size_mb)),
        }

    def clean(self):
        data = super().clean()
        lat, lng = data.get("latitude"), data.get("longitude")
        if (lat is None) != (lng is None) and not {"latitude", "longitude"} & set(self.errors):
            missing = "longitude" if lng is None else "latitude"
            self.add_error(missing, _("Give both the latitude and the longitude, or neither."))
        return data

    def location(self) -> dict | None:
        """The cleaned location as cases.inspections takes it, or None."""
        data = self.cleaned_data
        if data.get("latitude") is None or data.get("longitude") is None:
            return None
        accuracy = data.get("accuracy")
        return {
            "lat": float(data["latitude"]),
            "lng": float(data["longitude"]),
            "accuracy_m": float(accuracy) if accuracy is not None else None,
            "source": data.get("location_source") or "typed",
        }


class SignatureForm(forms.Form):
    """Signing a step: the explicit confirmation and a fresh authenticator code. `shown_sha256` is
    the digest of the sheet the page showed (cases.signatures.signature_sheet)."""

    confirm = forms.BooleanField(
        label=_("I have read this and I sign it"),
        error_messages={"required": _("Tick the box to confirm that you have read it and sign it.")},
    )
    code = OneTimeCodeField(
        label=_("Code from your authenticator app"),
        help_text=_("Six digits. Use a new code, not the one you signed in with."),
        error_messages={"required": _("Type the code from your authenticator app.")},
    )
    shown_sha256 = forms.RegexField(
        regex=r"^[0-9a-f]{64}$",
        widget=forms.HiddenInput,
        error_messages={
            "required": _("The page was incomplete; reload it and sign again."),
            "invalid": _("The page was incomplete; reload it and sign again."),
        },
    )


class ClosureForm(forms.Form):
    """A day the offices are closed, as the province announced it."""

    date = JalaliDateField(label=_("Closed day"), help_text=_("In the Jalali calendar, e.g. 1404/02/21."))
    reason = forms.CharField(
        label=_("Reason"), max_length=200, help_text=_("As announced, e.g. air pollution.")
    )
