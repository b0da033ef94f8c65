"""Shapes of the API: serializers check what comes in (every message names its field) and say what
goes out. They hold no rules of the domain — the services and selectors do."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from pishkhan.cases.documents import MAX_INSPECTION_PHOTOS
from pishkhan.cases.models import CaseStatus
from pishkhan.cases.signatures import SIGNING_OUTCOMES
from pishkhan.cases.tracking import tracking_code_normalize
from pishkhan.catalog.definition import OUTCOMES
from pishkhan.core.text import to_ascii_digits
from pishkhan.core.validators import normalize_mobile, normalize_national_id

# --- Common -----------------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    """Every refusal (api.errors)."""

    code = serializers.CharField(help_text="Stable code for programs, e.g. `not_found`, `invalid`.")
    detail = serializers.CharField(
        help_text="For people, in the language of Accept-Language (Persian default)."
    )
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Bad input only: dotted field path (e.g. `answers.area_m2`) → messages.",
    )


class TextSerializer(serializers.Serializer):
    fa = serializers.CharField()
    en = serializers.CharField(required=False)


def _django_validated(normalize, value):
    try:
        return normalize(value)
    except DjangoValidationError as error:
        raise serializers.ValidationError(error.messages) from None


def _tracking_code(value: str) -> str:
    """A tracking code as typed (Persian digits, spaces, dashes allowed) in ASCII digits."""
    return re.sub(r"[\s\-]", "", to_ascii_digits(value or ""))


class TrackingCodeField(serializers.CharField):
    """A whole tracking code, as people type it (Persian digits, spaces and dashes accepted), in
    its ASCII form; a code with a wrong check digit is refused as a typo."""

    default_error_messages = {
        "format": _(
            "This is not a tracking code: it has 12 digits and the last one checks the others. Look for a typo."
        )
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 40)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        code = tracking_code_normalize(super().to_internal_value(data))
        if code is None:
            self.fail("format")
        return code


# --- The catalogue ----------------------------------------------------------------------------


class ServiceSerializer(serializers.Serializer):
    """A service of the catalogue, as the list shows it."""

    code = serializers.SlugField()
    title = serializers.SerializerMethodField()
    category = serializers.CharField()
    department = serializers.SerializerMethodField()
    version = serializers.SerializerMethodField(help_text="The published version new cases start on.")

    @extend_schema_field(TextSerializer)
    def get_title(self, service) -> dict:
        return (
            {"fa": service.title_fa, "en": service.title_en} if service.title_en else {"fa": service.title_fa}
        )

    def get_department(self, service) -> str | None:
        return service.department.code if service.department_id else None

    def get_version(self, service) -> int | None:
        return self.context["current_versions"].get(service.pk)


class MetricsSerializer(serializers.Serializer):
    """Reform metrics of a definition (catalog.metrics), computed from the definition alone."""

    steps = serializers.IntegerField()
    discretionary = serializers.IntegerField()
    signatures = serializers.IntegerField()
    handoffs = serializers.IntegerField()
    documents = serializers.IntegerField()
    longest_path_days = serializers.FloatField()
    automatic_steps = serializers.IntegerField()
    roles_used = serializers.ListField(child=serializers.CharField())


class VersionSerializer(serializers.Serializer):
    """One version of a service's process: the canonical definition (docs/process-format.md) and
    its reform metrics."""

    code = serializers.SlugField()
    version = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["draft", "published", "retired"])
    published_at = serializers.DateTimeField(allow_null=True)
    definition = serializers.JSONField(help_text="The canonical definition dict (docs/process-format.md).")
    metrics = MetricsSerializer()


# --- Cases: input -----------------------------------------------------------------------------


class ApplicantSerializer(serializers.Serializer):
    """The walk-in citizen an office or a counter files for, from their identity card."""

    national_id = serializers.CharField(max_length=20, help_text="10 digits; Persian digits accepted.")
    mobile = serializers.CharField(max_length=20, help_text="The mobile the citizen signs in with.")

    def validate_national_id(self, value):
        return _django_validated(normalize_national_id, value)

    def validate_mobile(self, value):
        return _django_validated(normalize_mobile, value)


class CaseSubmitSerializer(serializers.Serializer):
    """POST /api/v1/cases/."""

    service = serializers.SlugField(max_length=60, help_text="The service's code.")
    answers = serializers.DictField(
        default=dict, help_text="Form answers by field id, checked against the service's definition."
    )
    district = serializers.SlugField(
        max_length=20, required=False, help_text="The district's code; defaults to the applicant's."
    )
    applicant = ApplicantSerializer(
        required=False, help_text="Offices and counters: the citizen filed for. Citizens leave it out."
    )


class CaseListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=CaseStatus.choices, required=False)
    q = serializers.CharField(
        required=False, allow_blank=True, max_length=40, help_text="A tracking code, or part of one."
    )

    def validate_q(self, value):
        return _tracking_code(value)


class DocumentUploadSerializer(serializers.Serializer):
    document_type = serializers.SlugField(max_length=80, help_text="A document id of the case's definition.")
    file = serializers.FileField()
    step_id = serializers.SlugField(max_length=80, required=False, allow_blank=True, default="")


class AnswerSerializer(serializers.Serializer):
    message = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class CorrectionRequestSerializer(serializers.Serializer):
    """What the applicant must correct (with outcome `return`)."""

    missing = serializers.ListField(child=serializers.CharField(max_length=80), default=list)
    message = serializers.CharField(max_length=2000)
    due_days = serializers.IntegerField(min_value=1, max_value=90)


class ActSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=OUTCOMES)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")
    request = CorrectionRequestSerializer(required=False, allow_null=True, default=None)


class InspectionSerializer(serializers.Serializer):
    """POST …/steps/{step}/inspection/ (multipart/form-data): the visit's report."""

    outcome = serializers.ChoiceField(choices=OUTCOMES)
    findings = serializers.CharField(max_length=5000, help_text="What the inspector found on site.")
    latitude = serializers.FloatField(
        required=False, allow_null=True, default=None, min_value=-90, max_value=90
    )
    longitude = serializers.FloatField(
        required=False, allow_null=True, default=None, min_value=-180, max_value=180
    )
    accuracy_m = serializers.FloatField(
        required=False,
        allow_null=True,
        default=None,
        min_value=0,
        max_value=100_000,
        help_text="The device's reported accuracy in metres, when the location came from it.",
    )
    photos = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        default=list,
        max_length=MAX_INSPECTION_PHOTOS,
        help_text="Photos taken on site: JPEG or PNG, checked by their content.",
    )

    def validate(self, data):
        if (data["latitude"] is None) != (data["longitude"] is None):
            missing = "longitude" if data["longitude"] is None else "latitude"
            raise serializers.ValidationError(
                {missing: _("Give both the latitude and the longitude, or neither.")}
            )
        return data


class SignatureSheetSerializer(serializers.Serializer):
    """What the signatory reads before signing: the drafts of what the signature issues, the
    case's documents by content hash, and the digest of it all (sent back when signing)."""

    step_id = serializers.CharField()
    sha256 = serializers.CharField()
    drafts = serializers.ListField(child=serializers.DictField())
    documents = serializers.ListField(child=serializers.DictField())


class SignSerializer(serializers.Serializer):
    """POST …/steps/{step}/signature/: sign what GET showed."""

    outcome = serializers.ChoiceField(choices=SIGNING_OUTCOMES)
    confirm = serializers.BooleanField(help_text="The signatory read the sheet and signs it.")
    code = serializers.CharField(max_length=10, help_text="A fresh code from the signatory's authenticator.")
    sha256 = serializers.CharField(max_length=64, help_text="The digest GET …/signature/ gave.")


class StatusQuerySerializer(serializers.Serializer):
    """POST /api/v1/status/: a tracking code and the applicant's national ID or mobile."""

    tracking_code = TrackingCodeField()
    second_factor = serializers.CharField(
        max_length=30, help_text="The applicant's national ID or mobile number.", trim_whitespace=True
    )


class QueueQuerySerializer(serializers.Serializer):
    district = serializers.SlugField(required=False, max_length=20)
    role = serializers.SlugField(required=False, max_length=40)
    alert = serializers.ChoiceField(choices=["soon", "overdue"], required=False)


# --- Cases: output ----------------------------------------------------------------------------


class PositionSerializer(serializers.Serializer):
    """An open step of a case."""

    step_id = serializers.CharField()
    role = serializers.CharField()
    state = serializers.CharField()
    assigned_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(allow_null=True)
    alert = serializers.CharField()
    request = serializers.JSONField(help_text="For a correction: what is missing, why, and by when.")
    claimed_by_me = serializers.SerializerMethodField()

    def get_claimed_by_me(self, position) -> bool:
        user = self.context["request"].user
        return position.assignee_id is not None and position.assignee_id == user.pk


class CaseSerializer(serializers.Serializer):
    tracking_code = serializers.CharField()
    service = serializers.CharField(source="service.code")
    service_title = serializers.SerializerMethodField()
    version = serializers.IntegerField(source="version.number")
    district = serializers.CharField(source="district.code")
    channel = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    submitted_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    suspended_since = serializers.DateTimeField(allow_null=True)
    answers = serializers.JSONField()
    positions = PositionSerializer(many=True, source="positions.all")

    @extend_schema_field(TextSerializer)
    def get_service_title(self, case) -> dict:
        service = case.service
        return (
            {"fa": service.title_fa, "en": service.title_en} if service.title_en else {"fa": service.title_fa}
        )


class CaseListItemSerializer(serializers.Serializer):
    tracking_code = serializers.CharField()
    service = serializers.CharField(source="service.code")
    district = serializers.CharField(source="district.code")
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    submitted_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(allow_null=True)


class DocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    document_type = serializers.CharField()
    original_name = serializers.CharField()
    content_type = serializers.CharField(source="file.content_type")
    size = serializers.IntegerField(source="file.size")
    sha256 = serializers.CharField(source="file.sha256")
    step_id = serializers.CharField()
    uploaded_at = serializers.DateTimeField()
    download = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.URI)
    def get_download(self, document) -> str:
        return self.context["request"].build_absolute_uri(
            reverse(
                "api:case-document-download",
                kwargs={"tracking_code": document.case.tracking_code, "document_id": document.pk},
            )
        )


class QueueItemSerializer(serializers.Serializer):
    tracking_code = serializers.CharField(source="case.tracking_code")
    service = serializers.CharField(source="case.service.code")
    step_id = serializers.CharField()
    role = serializers.CharField()
    district = serializers.CharField(source="district.code")
    state = serializers.CharField()
    assigned_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(allow_null=True)
    alert = serializers.CharField()
    claimed_by_me = serializers.SerializerMethodField()

    def get_claimed_by_me(self, position) -> bool:
        return position.assignee_id is not None and position.assignee_id == self.context["request"].user.pk


class TimelineEntrySerializer(serializers.Serializer):
    """One line of a case's history (cases.selectors.TimelineEntry). `actor_name` is filled only
    for staff; everyone else sees the role that acted, never the person."""

    seq = serializers.IntegerField()
    at = serializers.DateTimeField()
    activity = serializers.CharField()
    activity_label = serializers.CharField()
    step_id = serializers.CharField()
    step_title = serializers.CharField()
    outcome = serializers.CharField()
    outcome_label = serializers.CharField()
    role = serializers.CharField()
    role_title = serializers.CharField()
    reason = serializers.CharField()
    actor_name = serializers.CharField(allow_null=True)


class PublicStageSerializer(serializers.Serializer):
    title = serializers.CharField()
    role = serializers.CharField(help_text="Who the case waits for: a role, or the applicant.")
    with_applicant = serializers.BooleanField()
    due_at = serializers.DateTimeField(allow_null=True)


class PublicStatusSerializer(serializers.Serializer):
    """What anyone with the tracking code and the second factor learns: no personal data."""

    tracking_code = serializers.CharField()
    service = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    stages = PublicStageSerializer(many=True)
    next_deadline = serializers.DateTimeField(allow_null=True)
    submitted_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
