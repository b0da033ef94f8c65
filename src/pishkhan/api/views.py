"""The REST API, version 1 (`/api/v1/`). Thin: serializers check shapes, the case services write,
the selectors read. Who may see a case is asked of `cases.selectors.case_visible_to` / `cases_for`
and nothing else; a case the caller may not see answers 404, exactly like one that does not exist,
so a tracking code's existence never leaks.

Errors are JSON `{"code", "detail"[, "errors"]}` (api.errors) in the language of Accept-Language
(api.language): Persian unless the client asks for English."""

from __future__ import annotations

import re
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.metadata import SimpleMetadata
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from pishkhan.accounts.models import District, UserKind
from pishkhan.accounts.services import ProfileError, citizen_get_or_create
from pishkhan.cases import selectors as case_selectors
from pishkhan.cases import services as case_services
from pishkhan.cases.documents import document_upload
from pishkhan.cases.files import file_open
from pishkhan.cases.inspections import inspection_complete
from pishkhan.cases.models import Channel
from pishkhan.cases.signatures import SIGNING_OUTCOMES, signature_required, signature_sheet, signature_sign
from pishkhan.catalog import selectors as catalog_selectors
from pishkhan.catalog.definition import definition_to_dict
from pishkhan.catalog.metrics import definition_metrics
from pishkhan.catalog.models import VersionStatus
from pishkhan.core.ratelimit import client_address, rate_limit_hit

from . import serializers as s
from .authentication import API_AUTHENTICATION
from .errors import api_exception_handler, invalid_response
from .language import ApiLanguageMixin
from .permissions import CanFileCases, IsStaffMember, is_process_owner, office_of

IDEMPOTENCY_HEADER = "Idempotency-Key"
# What an Idempotency-Key may hold: printable ASCII without spaces (a UUID is typical), at most the
# 100 characters cases.SubmissionKey stores.
IDEMPOTENCY_KEY_FORMAT = re.compile(r"[!-~]{1,100}")
# The field of the request a refusal of accounts.services.citizen_get_or_create is about.
APPLICANT_ERROR_FIELDS = {
    "national_id_invalid": "applicant.national_id",
    "mobile_invalid": "applicant.mobile",
}

ERRORS = {
    400: OpenApiResponse(s.ErrorSerializer, description="Bad input; `errors` names each field."),
    401: OpenApiResponse(s.ErrorSerializer, description="Not signed in (no or a bad token)."),
    403: OpenApiResponse(s.ErrorSerializer, description="Signed in, but not allowed."),
    404: OpenApiResponse(
        s.ErrorSerializer, description="No such thing, or one the caller may not see (indistinguishable)."
    ),
    409: OpenApiResponse(s.ErrorSerializer, description="The case moved on (e.g. the step is already done)."),
    429: OpenApiResponse(s.ErrorSerializer, description="Too many requests; try later."),
}


def errors(*statuses: int) -> dict:
    return {code: ERRORS[code] for code in statuses}


TRACKING_CODE = OpenApiParameter("tracking_code", OpenApiTypes.STR, OpenApiParameter.PATH)
STEP_ID = OpenApiParameter("step_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="A step id.")
ACCEPT_LANGUAGE = OpenApiParameter(
    "Accept-Language",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="`en` for English messages; Persian otherwise.",
)


class ApiMetadata(SimpleMetadata):
    """The answer to OPTIONS: name, description, media types. DRF's default also describes the
    input of POST/PUT from the view's serializer, which these views choose per method (and which
    the OpenAPI schema describes in full anyway)."""

    def determine_actions(self, request, view):
        return {}


class ApiView(ApiLanguageMixin, GenericAPIView):
    """Base of every API view: token-then-session authentication (api.authentication), the API's
    error shape (api.errors) and language (api.language)."""

    authentication_classes = API_AUTHENTICATION
    permission_classes = [IsAuthenticated]
    metadata_class = ApiMetadata
    # JSON only: people read the API through /api/v1/docs/, so DRF's browsable HTML pages (and
    # their forms, which assume one serializer per view) are left out.
    renderer_classes = [JSONRenderer]

    def get_exception_handler(self):
        return api_exception_handler

    def visible_case(self, tracking_code: str):
        """The case with this tracking code if the caller may see it; else 404, the same answer as
        for a code that does not exist."""
        case = case_selectors.case_by_tracking_code(tracking_code)
        if case is None or not case_selectors.case_visible_to(self.request.user, case):
            raise NotFound(_("No case with this tracking code is visible to you."))
        return case

    def query(self, serializer_class):
        """The query string checked by `serializer_class` (a bad value answers 400 naming it)."""
        serializer = serializer_class(data=self.request.query_params)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def body(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def case_response(self, case, *, status_code=status.HTTP_200_OK) -> Response:
        case = case_selectors.case_by_tracking_code(case.tracking_code)  # fresh positions
        return Response(s.CaseSerializer(case, context={"request": self.request}).data, status=status_code)


# --- The catalogue ------------------------------------------------------------------------------


class ServiceListView(ApiView):
    """Services citizens can ask for."""

    permission_classes = [AllowAny]
    serializer_class = s.ServiceSerializer

    @extend_schema(
        operation_id="services_list",
        summary="Services in the catalogue",
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, description="Search titles, keywords and descriptions."),
            ACCEPT_LANGUAGE,
        ],
        responses={200: s.ServiceSerializer(many=True)},
        tags=["catalogue"],
    )
    def get(self, request):
        query = str(request.query_params.get("q", ""))[:200]
        page = self.paginate_queryset(catalog_selectors.service_list(query=query))
        current = {}
        for service in page:
            version = catalog_selectors.version_current(service)
            current[service.pk] = version.number if version else None
        data = s.ServiceSerializer(page, many=True, context={"current_versions": current}).data
        return self.get_paginated_response(data)


def _version_data(version) -> dict:
    definition = catalog_selectors.version_definition(version)
    metrics = definition_metrics(definition)
    return {
        "code": version.service.code,
        "version": version.number,
        "status": version.status,
        "published_at": version.published_at,
        "definition": definition_to_dict(definition),
        "metrics": {**metrics.__dict__, "roles_used": list(metrics.roles_used)},
    }


class ServiceDetailView(ApiView):
    """The definition new cases of a service start on."""

    permission_classes = [AllowAny]
    serializer_class = s.VersionSerializer

    @extend_schema(
        operation_id="services_retrieve",
        summary="A service's current published definition and reform metrics",
        parameters=[ACCEPT_LANGUAGE],
        responses={200: s.VersionSerializer, **errors(404)},
        tags=["catalogue"],
    )
    def get(self, request, code: str):
        service = catalog_selectors.service_get(code)
        version = catalog_selectors.version_current(service) if service else None
        if version is None:
            raise NotFound(_("No published service has this code."))
        return Response(s.VersionSerializer(_version_data(version)).data)


class ServiceVersionView(ApiView):
    """Any published or retired version; drafts only for the service's process owners."""

    permission_classes = [AllowAny]
    serializer_class = s.VersionSerializer

    @extend_schema(
        operation_id="services_version_retrieve",
        summary="One version of a service's process",
        description="Published and retired versions are public; a draft answers 404 except to the "
        "service's process owners.",
        parameters=[ACCEPT_LANGUAGE],
        responses={200: s.VersionSerializer, **errors(404)},
        tags=["catalogue"],
    )
    def get(self, request, code: str, number: int):
        version = catalog_selectors.version_get(code, number)
        if version is None or (
            version.status == VersionStatus.DRAFT and not is_process_owner(request.user, version.service)
        ):
            raise NotFound(_("This service has no such version."))
        return Response(s.VersionSerializer(_version_data(version)).data)


# --- Cases: the applicant's side ----------------------------------------------------------------


class CaseListView(ApiView):
    serializer_class = s.CaseListItemSerializer

    def get_permissions(self):
        return [CanFileCases()] if self.request.method == "POST" else [IsAuthenticated()]

    @extend_schema(
        operation_id="cases_list",
        summary="My cases",
        description="Citizens: their own cases; office operators: the cases their office filed; staff: "
        "the cases of their districts and roles. `q` searches tracking codes only among those.",
        parameters=[s.CaseListQuerySerializer, ACCEPT_LANGUAGE],
        responses={200: s.CaseListItemSerializer(many=True), **errors(400, 401)},
        tags=["cases"],
    )
    def get(self, request):
        query = self.query(s.CaseListQuerySerializer)
        cases = case_selectors.cases_for(request.user).select_related("service", "district")
        if query.get("status"):
            cases = cases.filter(status=query["status"])
        if query.get("q"):
            cases = cases.filter(tracking_code__contains=query["q"])
        page = self.paginate_queryset(cases)
        return self.get_paginated_response(s.CaseListItemSerializer(page, many=True).data)

    @extend_schema(
        operation_id="cases_create",
        summary="File a case",
        description=(
            "Citizens file for themselves (leave `applicant` out); e-service office operators and "
            "municipal staff at a counter file for a walk-in citizen named by `applicant` (national "
            "ID and mobile; an account is made when the citizen has none).\n\n"
            "The `Idempotency-Key` header is required: a retry with the same key and the same body "
            "answers **200** with the case the first request made (201), and no second case is "
            "made; the same key with a different body answers 409. Keys are per caller."
        ),
        request=s.CaseSubmitSerializer,
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=True,
                description="A fresh random value (a UUID) per case; reuse it only to retry.",
            ),
            ACCEPT_LANGUAGE,
        ],
        responses={
            201: OpenApiResponse(s.CaseSerializer, description="The new case."),
            200: OpenApiResponse(s.CaseSerializer, description="A retry: the case the key made before."),
            **errors(400, 401, 403, 409),
        },
        tags=["cases"],
    )
    def post(self, request):
        key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
        if not IDEMPOTENCY_KEY_FORMAT.fullmatch(key):
            message = _(
                "Send an Idempotency-Key header: a fresh random value (such as a UUID) for each new case, "
                "and the same value when you retry, so a retried request never makes a second case. "
                "At most 100 printable characters, no spaces."
            )
            return invalid_response({IDEMPOTENCY_HEADER: [message]}, code="idempotency_key", detail=message)
        data = self.body(s.CaseSubmitSerializer)
        user = request.user

        service = catalog_selectors.service_get(data["service"])
        if service is None or catalog_selectors.version_current(service) is None:
            return invalid_response({"service": [_("No published service has this code.")]})
        district = None
        if data.get("district"):
            district = District.objects.filter(code=data["district"]).first()
            if district is None:
                return invalid_response({"district": [_("No district has this code.")]})

        office = None
        if user.kind == UserKind.CITIZEN:
            if data.get("applicant"):
                return invalid_response(
                    {"applicant": [_("Citizens file for themselves; leave out the applicant.")]}
                )
            channel = Channel.ONLINE
        else:
            if not data.get("applicant"):
                return invalid_response(
                    {"applicant": [_("Name the citizen you file for: their national ID and mobile.")]}
                )
            if user.kind == UserKind.OPERATOR:
                channel, office = Channel.OFFICE, office_of(user)
            else:
                channel = Channel.COUNTER

        # One transaction: when the engine refuses the case, an account made for the walk-in
        # applicant is not left behind.
        now = timezone.now()
        with transaction.atomic():
            applicant = user
            if user.kind != UserKind.CITIZEN:
                try:
                    applicant = citizen_get_or_create(
                        national_id=data["applicant"]["national_id"],
                        mobile=data["applicant"]["mobile"],
                        by=user,
                    )
                except ProfileError as error:
                    field = APPLICANT_ERROR_FIELDS.get(error.code, "applicant")
                    return invalid_response({field: [error.message]}, code=error.code, detail=error.message)
            case = case_services.case_submit(
                service=service,
                applicant=applicant,
                filed_by=user,
                answers=data["answers"],
                channel=channel,
                district=district,
                office=office,
                idempotency_key=key,
                now=now,
            )
        # case_submit gives back the case an earlier request with this key made, unchanged; a case
        # made by this request was submitted at the very moment passed in.
        created = case.submitted_at == now
        return self.case_response(
            case, status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class CaseDetailView(ApiView):
    serializer_class = s.CaseSerializer

    @extend_schema(
        operation_id="cases_retrieve",
        summary="A case",
        parameters=[TRACKING_CODE, ACCEPT_LANGUAGE],
        responses={200: s.CaseSerializer, **errors(401, 404)},
        tags=["cases"],
    )
    def get(self, request, tracking_code: str):
        return self.case_response(self.visible_case(tracking_code))


class CaseTimelineView(ApiView):
    pagination_class = None  # a case's history is short, and read whole

    @extend_schema(
        operation_id="cases_timeline",
        summary="A case's timeline",
        description="What happened to the case, oldest first, from its event log. Citizens and offices "
        "never see staff names.",
        parameters=[TRACKING_CODE, ACCEPT_LANGUAGE],
        responses={200: s.TimelineEntrySerializer(many=True), **errors(401, 404)},
        tags=["cases"],
    )
    def get(self, request, tracking_code: str):
        case = self.visible_case(tracking_code)
        entries = case_selectors.case_timeline(case, viewer=request.user)
        return Response(s.TimelineEntrySerializer(entries, many=True).data)


class CaseDocumentListView(ApiView):
    pagination_class = None  # a handful per case
    parser_classes = [MultiPartParser, FormParser]
    serializer_class = s.DocumentSerializer

    @extend_schema(
        operation_id="cases_documents_list",
        summary="A case's documents",
        parameters=[TRACKING_CODE, ACCEPT_LANGUAGE],
        responses={200: s.DocumentSerializer(many=True), **errors(401, 404)},
        tags=["documents"],
    )
    def get(self, request, tracking_code: str):
        case = self.visible_case(tracking_code)
        documents = case.documents.select_related("file", "case").order_by("uploaded_at", "pk")
        return Response(s.DocumentSerializer(documents, many=True, context={"request": request}).data)

    @extend_schema(
        operation_id="cases_documents_create",
        summary="Upload a document",
        description="multipart/form-data. The content is checked (kind sniffed from the bytes, size, "
        "the formats the definition allows); a refused file answers 400 saying why.",
        parameters=[TRACKING_CODE, ACCEPT_LANGUAGE],
        request={"multipart/form-data": s.DocumentUploadSerializer},
        responses={201: s.DocumentSerializer, **errors(400, 401, 403, 404, 409)},
        tags=["documents"],
    )
    def post(self, request, tracking_code: str):
        case = self.visible_case(tracking_code)
        data = self.body(s.DocumentUploadSerializer)
        document = document_upload(
            case=case,
            document_type=data["document_type"],
            upload=data["file"],
            by=request.user,
            step_id=data["step_id"],
        )
        return Response(
            s.DocumentSerializer(document, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


class FirstRendererNegotiation(BaseContentNegotiation):
    """A download answers with the file whatever the Accept header asks for (a client may well
    ask for application/pdf); errors are still JSON."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class CaseDocumentDownloadView(ApiView):
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(
        operation_id="cases_documents_download",
        summary="Download a document",
        parameters=[
            TRACKING_CODE,
            OpenApiParameter("document_id", OpenApiTypes.INT, OpenApiParameter.PATH),
            ACCEPT_LANGUAGE,
        ],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The file, as an attachment, with its detected type."
            ),
            **errors(401, 404),
        },
        tags=["documents"],
    )
    def get(self, request, tracking_code: str, document_id: int):
        case = self.visible_case(tracking_code)
        document = case.documents.select_related("file").filter(pk=document_id).first()
        if document is None:
            raise NotFound(_("This case has no such document."))
        response = FileResponse(
            file_open(document.file),
            as_attachment=True,
            filename=document.original_name,
            content_type=document.file.content_type,
        )
        # Never let a browser guess a type from the bytes (an "image" that is really HTML), and
        # keep personal documents out of shared caches.
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response


class CaseAnswerView(ApiView):
    @extend_schema(
        operation_id="cases_answer",
        summary="Answer a correction request",
        description="The applicant (or the office that filed the case) says the correction is done, "
        "after uploading what was missing; the step goes back to its queue.",
        parameters=[TRACKING_CODE, ACCEPT_LANGUAGE],
        request=s.AnswerSerializer,
        responses={200: s.CaseSerializer, **errors(400, 401, 403, 404, 409)},
        tags=["cases"],
    )
    def post(self, request, tracking_code: str):
        case = self.visible_case(tracking_code)
        data = self.body(s.AnswerSerializer)
        case_services.case_answer(case=case, actor=request.user, message=data["message"])
        return self.case_response(case)


class CaseWithdrawView(ApiView):
    @extend_schema(
        operation_id="cases_withdraw",
        summary="Withdraw a case",
        parameters=[TRACKING_CODE, ACCEPT_LANGUAGE],
        request=s.WithdrawSerializer,
        responses={200: s.CaseSerializer, **errors(400, 401, 403, 404, 409)},
        tags=["cases"],
    )
    def post(self, request, tracking_code: str):
        case = self.visible_case(tracking_code)
        data = self.body(s.WithdrawSerializer)
        case_services.case_withdraw(case=case, actor=request.user, reason=data["reason"])
        return self.case_response(case)


class PublicStatusView(ApiView):
    """Anyone with a tracking code and the applicant's national ID or mobile."""

    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="status_lookup",
        summary="A case's status, by tracking code and second factor",
        description=(
            "For anyone holding a tracking code and the applicant's national ID or mobile number; "
            "no personal data is answered. A POST, so the national ID stays out of URLs and logs. "
            "An unknown code and a wrong second factor get the same 404. Rate limited per client "
            "address and per tracking code (429)."
        ),
        request=s.StatusQuerySerializer,
        parameters=[ACCEPT_LANGUAGE],
        responses={200: s.PublicStatusSerializer, **errors(400, 404, 429)},
        tags=["cases"],
    )
    def post(self, request):
        data = self.body(s.StatusQuerySerializer)
        hour = timedelta(hours=1)
        address = client_address(request)
        # An unknown address (a misconfigured proxy header) is not made one shared bucket that a
        # single client could fill for everyone; the per-code limit still applies.
        if address and not rate_limit_hit(
            key=f"api-status:address:{address}",
            limit=settings.API_STATUS_PER_ADDRESS_PER_HOUR,
            window=hour,
        ):
            return _too_many(_("Too many status requests from your connection. Please try again in an hour."))
        if not rate_limit_hit(
            key=f"api-status:code:{data['tracking_code']}",
            limit=settings.API_STATUS_PER_CODE_PER_HOUR,
            window=hour,
        ):
            return _too_many(
                _("Too many status requests for this tracking code. Please try again in an hour.")
            )
        found = case_selectors.case_public_status(
            tracking_code=data["tracking_code"], second_factor=data["second_factor"]
        )
        if found is None:
            raise NotFound(
                _(
                    "No case matches this tracking code and national ID or mobile number. Check both and try again."
                )
            )
        return Response(s.PublicStatusSerializer(found).data)


def _too_many(message: str) -> Response:
    return Response(
        {"code": "throttled", "detail": message},
        status=status.HTTP_429_TOO_MANY_REQUESTS,
        headers={"Retry-After": "3600"},
    )


# --- Staff -------------------------------------------------------------------------------------


class QueueView(ApiView):
    permission_classes = [IsStaffMember]
    serializer_class = s.QueueItemSerializer

    @extend_schema(
        operation_id="queue_list",
        summary="My queue",
        description="Open steps waiting in the caller's roles and districts, soonest due first.",
        parameters=[s.QueueQuerySerializer, ACCEPT_LANGUAGE],
        responses={200: s.QueueItemSerializer(many=True), **errors(400, 401, 403)},
        tags=["staff"],
    )
    def get(self, request):
        query = self.query(s.QueueQuerySerializer)
        district = None
        if query.get("district"):
            district = District.objects.filter(code=query["district"]).first()
            if district is None:
                return invalid_response({"district": [_("No district has this code.")]})
        positions = case_selectors.queue_for(
            request.user, district=district, role=query.get("role") or None, alert=query.get("alert") or None
        )
        page = self.paginate_queryset(positions)
        return self.get_paginated_response(
            s.QueueItemSerializer(page, many=True, context={"request": request}).data
        )


class StepView(ApiView):
    """Base of the actions on one open step of a case."""

    def open_position(self, case, step_id: str):
        """The open position of `step_id` in `case`. A step the case's process does not have as a
        work step answers 404; one that is not open now (done already, or not reached) 409 — the
        same refusals case_advance gives."""
        position = case.positions.filter(step_id=step_id).first()
        if position is not None:
            return position
        step = case_selectors.case_definition(case).step(step_id)
        if step is None or not step.is_work:
            raise case_services.CaseError(
                "unknown_step", _("This case has no step “%(step)s”.") % {"step": step_id}, 404
            )
        raise case_services.CaseError(
            "stale",
            _("This step is already done, or is not open now; reload the case to see it as it is."),
            409,
        )


STEP_RESPONSES = {200: s.CaseSerializer, **errors(400, 401, 403, 404, 409)}


class StepClaimView(StepView):
    @extend_schema(
        operation_id="steps_claim",
        summary="Claim a step",
        parameters=[TRACKING_CODE, STEP_ID, ACCEPT_LANGUAGE],
        request=None,
        responses=STEP_RESPONSES,
        tags=["staff"],
    )
    def post(self, request, tracking_code: str, step_id: str):
        case = self.visible_case(tracking_code)
        case_services.case_claim(position=self.open_position(case, step_id), actor=request.user)
        return self.case_response(case)


class StepReleaseView(StepView):
    @extend_schema(
        operation_id="steps_release",
        summary="Release a claimed step back to its queue",
        parameters=[TRACKING_CODE, STEP_ID, ACCEPT_LANGUAGE],
        request=None,
        responses=STEP_RESPONSES,
        tags=["staff"],
    )
    def post(self, request, tracking_code: str, step_id: str):
        case = self.visible_case(tracking_code)
        case_services.case_release(position=self.open_position(case, step_id), actor=request.user)
        return self.case_response(case)


class StepActView(StepView):
    @extend_schema(
        operation_id="steps_act",
        summary="Act on a step",
        description="Complete a step with one of its outcomes. `reject` needs a `reason`; `return` "
        "needs a `request` (what is missing, a message, and the applicant's due days). A step of "
        "another case, an outcome the step does not have, or a step already done answers 4xx and "
        "changes nothing.",
        parameters=[TRACKING_CODE, STEP_ID, ACCEPT_LANGUAGE],
        request=s.ActSerializer,
        responses=STEP_RESPONSES,
        tags=["staff"],
    )
    def post(self, request, tracking_code: str, step_id: str):
        case = self.visible_case(tracking_code)
        data = self.body(s.ActSerializer)
        # A visit is recorded with its report, a signature with the signatory's authenticator
        # code: the same rule as the staff desk's, so neither can be skipped through the API.
        step = case_selectors.case_definition(case).step(step_id)
        if step is not None and step.kind == "inspection" and data["outcome"] != "return":
            raise case_services.CaseError(
                "report_required",
                _(
                    "A site inspection is recorded with its report: POST the findings to …/steps/%(step)s/inspection/."
                )
                % {"step": step_id},
            )
        if signature_required(step) and data["outcome"] in SIGNING_OUTCOMES:
            raise case_services.CaseError(
                "signature_required",
                _(
                    "This decision is signed: read GET …/steps/%(step)s/signature/, then POST it there "
                    "with a fresh code from your authenticator."
                )
                % {"step": step_id},
            )
        case_services.case_advance(
            case=case,
            step_id=step_id,
            outcome=data["outcome"],
            actor=request.user,
            reason=data["reason"],
            request=data["request"],
        )
        return self.case_response(case)


class StepInspectionView(StepView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="steps_inspection",
        summary="Record a site inspection",
        description="multipart/form-data. Completes an inspection step with the visit's report: the "
        "outcome, the findings (required), the location (latitude and longitude, both or neither; "
        "inside Iran) and up to 10 photos taken on site (JPEG or PNG, checked by their content). A "
        "refused photo or field answers 400 naming it, and nothing is stored.",
        parameters=[TRACKING_CODE, STEP_ID, ACCEPT_LANGUAGE],
        request={"multipart/form-data": s.InspectionSerializer},
        responses=STEP_RESPONSES,
        tags=["staff"],
    )
    def post(self, request, tracking_code: str, step_id: str):
        case = self.visible_case(tracking_code)
        data = self.body(s.InspectionSerializer)
        location = None
        if data["latitude"] is not None:
            location = {
                "lat": data["latitude"],
                "lng": data["longitude"],
                "accuracy_m": data["accuracy_m"],
                "source": "device" if data["accuracy_m"] is not None else "typed",
            }
        inspection_complete(
            case=case,
            step_id=step_id,
            outcome=data["outcome"],
            actor=request.user,
            photos=data["photos"],
            location=location,
            findings=data["findings"],
        )
        return self.case_response(case)


class StepSignatureView(StepView):
    @extend_schema(
        operation_id="steps_signature_sheet",
        summary="What a signature signs",
        description="The sheet the signatory reads before signing: the drafts of the documents the "
        "signature issues, the case's documents by content hash, and the digest to send back.",
        parameters=[TRACKING_CODE, STEP_ID, ACCEPT_LANGUAGE],
        responses={200: s.SignatureSheetSerializer, **errors(400, 401, 403, 404, 409)},
        tags=["staff"],
    )
    def get(self, request, tracking_code: str, step_id: str):
        case = self.visible_case(tracking_code)
        step = case_selectors.case_definition(case).step(step_id)
        if not signature_required(step):
            raise case_services.CaseError("not_signature", _("Nobody signs at this step."), 400)
        self.open_position(case, step_id)
        return Response(s.SignatureSheetSerializer(signature_sheet(case, step_id=step_id)).data)

    @extend_schema(
        operation_id="steps_sign",
        summary="Sign a step",
        description="Completes a signature step with `approve` or `done`: `confirm` must be true, "
        "`sha256` the digest the sheet gave (a case changed since answers 409 and signs nothing), "
        "and `code` a fresh code from the signatory's authenticator (a wrong or replayed code "
        "answers 403).",
        parameters=[TRACKING_CODE, STEP_ID, ACCEPT_LANGUAGE],
        request=s.SignSerializer,
        responses=STEP_RESPONSES,
        tags=["staff"],
    )
    def post(self, request, tracking_code: str, step_id: str):
        case = self.visible_case(tracking_code)
        data = self.body(s.SignSerializer)
        signature_sign(
            case=case,
            step_id=step_id,
            outcome=data["outcome"],
            actor=request.user,
            confirmed=data["confirm"],
            code=data["code"],
            shown_sha256=data["sha256"],
            address=client_address(request),
        )
        return self.case_response(case)


class NoSuchEndpointView(ApiView):
    """Anything under /api/ that no endpoint matches: a JSON 404 in the API's shape and language,
    not the website's HTML page, so a client with a typo in a path reads what went wrong."""

    permission_classes = [AllowAny]
    schema = None  # not an endpoint; left out of the OpenAPI schema

    def not_found(self, request, *args, **kwargs):
        raise NotFound(_("There is no such API endpoint. The list is at /api/v1/docs/."))

    get = post = put = patch = delete = options = not_found
