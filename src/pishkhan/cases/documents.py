"""Documents of a case: what the applicant (or their office, or staff) uploads.

    document_upload(*, case, document_type, upload, by, step_id="", now=None) -> CaseDocument
    document_rules(case, document_type, *, step_id="") -> DocumentRules
    inspection_photos_upload(*, case, step_id, uploads, by, now=None) -> list[CaseDocument]
    definition_document_rules(definition, document_type) -> DocumentRules

The definition the case runs on says which documents it takes, in which formats and up to which
size; files.file_check decides by the content whether a file is one of those; nothing reaches
storage until it has passed. One document type is the engine's own rather than a definition's:
`inspection_photo`, the photos an inspector takes on site at any inspection step.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from pishkhan.accounts.models import RoleBinding, UserKind
from pishkhan.catalog.definition import Definition, Document, Text
from pishkhan.core.text import localize_digits

from .files import CheckedFile, DocumentRejected, file_check, file_store
from .models import Case, CaseDocument, CaseStatus, PositionState
from .selectors import case_definition, case_visible_to

# Roles that may read every case but change none (docs/case-engine.md, case_visible_to).
READ_ONLY_ROLES = ("auditor", "council_observer")

# Photos an inspector takes on site. Every process takes them at its inspection steps, so no
# definition lists them among the documents the applicant brings; only the staff who may
# complete the inspection step add them, while it is open. Phones save JPEG (or PNG screenshots).
INSPECTION_PHOTO = "inspection_photo"
INSPECTION_PHOTO_DOCUMENT = Document(
    id=INSPECTION_PHOTO,
    title=Text(fa="عکس بازدید محل", en="Photo taken on site"),
    formats=["jpg", "png"],
    max_size_mb=15,
    required=False,
)
# Photos of one visit: enough to show a route end to end, few enough to read on the case page.
MAX_INSPECTION_PHOTOS = 10


@dataclass(frozen=True)
class DocumentRules:
    """What a document type of a case accepts: the definition's entry, its formats and the size
    limit in bytes (the definition's max_size_mb, capped by settings.UPLOAD_MAX_MB)."""

    document: Document
    formats: list[str]
    max_bytes: int


def document_rules(case: Case, document_type: str, *, step_id: str = "") -> DocumentRules:
    """The rules for `document_type` on `case`. Raises DocumentRejected(`unknown_document`) when the
    case's definition asks for no such document; `inspection_photo` is taken at the definition's
    inspection steps only (`step_id`)."""
    definition = case_definition(case)
    if document_type != INSPECTION_PHOTO:
        return definition_document_rules(definition, document_type)
    step = definition.step(step_id) if step_id else None
    if step is None or step.kind != "inspection":
        raise DocumentRejected(
            "unknown_document", _("Photos taken on site belong to an inspection step of the case.")
        )
    megabytes = min(float(INSPECTION_PHOTO_DOCUMENT.max_size_mb), float(settings.UPLOAD_MAX_MB))
    return DocumentRules(
        document=INSPECTION_PHOTO_DOCUMENT,
        formats=list(INSPECTION_PHOTO_DOCUMENT.formats),
        max_bytes=int(megabytes * 1024 * 1024),
    )


def definition_document_rules(definition: Definition, document_type: str) -> DocumentRules:
    """The rules for `document_type` in `definition`, before any case exists (the application form
    checks a file as it is chosen). Raises DocumentRejected(`unknown_document`) like document_rules."""
    document = next((d for d in definition.documents if d.id == document_type), None)
    if document is None:
        raise DocumentRejected(
            "unknown_document",
            _("This service asks for no document called “%(document)s”.") % {"document": document_type},
        )
    megabytes = min(float(document.max_size_mb or settings.UPLOAD_MAX_MB), float(settings.UPLOAD_MAX_MB))
    return DocumentRules(
        document=document, formats=list(document.formats), max_bytes=int(megabytes * 1024 * 1024)
    )


def _may_upload(user, case: Case) -> bool:
    """The applicant, an operator of the office that filed the case, or staff who may see the case
    in a role that acts (auditors and council observers only read)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.pk == case.applicant_id:
        return True
    if user.kind == UserKind.OPERATOR:
        operator = getattr(user, "office_operator", None)
        return case.office_id is not None and operator is not None and operator.office_id == case.office_id
    if user.kind != UserKind.STAFF:
        return False
    if not case_visible_to(user, case):
        return False
    acting = user.role_bindings.exclude(role__code__in=READ_ONLY_ROLES)
    return acting.filter(Q(district__isnull=True) | Q(district=case.district_id)).exists()


def _require_may_photograph(user, case: Case, step_id: str) -> None:
    """Staff who may complete the open inspection step `step_id` now: its assignee, or (while
    nobody holds it) someone bound to its role in the case's district or city-wide. Refuses as
    case_advance would: 403 `forbidden`, 409 `stale` (the step is not open), 409 `claimed`."""
    signed_in = user is not None and getattr(user, "is_authenticated", False) and user.is_active
    if not signed_in or user.kind != UserKind.STAFF:
        raise DocumentRejected("forbidden", _("You may not add documents to this case."), status=403)
    position = case.positions.filter(
        step_id=step_id, state__in=(PositionState.QUEUED, PositionState.CLAIMED)
    ).first()
    if position is None:
        raise DocumentRejected(
            "stale",
            _("This step is already done, or is not open now; reload the page to see the case as it is."),
            status=409,
        )
    if position.assignee_id is not None and position.assignee_id != user.pk:
        raise DocumentRejected("claimed", _("Someone else is working on this step."), status=409)
    if (
        position.assignee_id is None
        and not RoleBinding.objects.filter(
            Q(district__isnull=True) | Q(district=case.district_id), user=user, role__code=position.role
        ).exists()
    ):
        raise DocumentRejected(
            "forbidden", _("You do not hold the role this step needs in this case's district."), status=403
        )


def _require_may_upload(by, case: Case, document_type: str, step_id: str) -> None:
    if document_type == INSPECTION_PHOTO:
        _require_may_photograph(by, case, step_id)
    elif not _may_upload(by, case):
        raise DocumentRejected("forbidden", _("You may not add documents to this case."), status=403)


def document_upload(
    *, case: Case, document_type: str, upload, by, step_id: str = "", now=None
) -> CaseDocument:
    """Check an upload and attach it to `case` as a document of `document_type`; return the row.

    `by` must be the applicant, an operator of the filing office or staff who may act on the case.
    The file must be of a format the document allows, within its size limit, and pass every content
    check of files.file_check. A new upload of a type the case already has replaces the latest one
    (`replaces`); both stay in the record. Appends a `document_uploaded` event under the case lock.

    Raises DocumentRejected (a CaseError) with nothing stored: `unknown_document`, `forbidden`
    (status 403), `closed` (status 409), or any refusal of file_check.
    """
    rules = document_rules(case, document_type, step_id=step_id)
    _require_may_upload(by, case, document_type, step_id)
    _refuse_closed(case)
    checked = file_check(upload=upload, allowed_formats=rules.formats, max_bytes=rules.max_bytes)
    try:
        with transaction.atomic():
            locked = Case.objects.select_for_update().get(pk=case.pk)
            _refuse_closed(locked)
            document = _attach(locked, checked, document_type=document_type, by=by, step_id=step_id, now=now)
    finally:
        checked.close()
    case.event_seq, case.event_hash = locked.event_seq, locked.event_hash
    return document


def inspection_photos_upload(*, case: Case, step_id: str, uploads, by, now=None) -> list[CaseDocument]:
    """Attach the photos of a site visit to `case` as `inspection_photo` documents of the open
    inspection step `step_id`, in the order given; return the rows.

    `by` must be staff who may complete that step now (its assignee, or bound to its role while
    nobody holds it; 403 otherwise). Every photo is checked first (JPEG or PNG by its content,
    within the size limit, every check of files.file_check); when one is refused nothing at all
    is stored and the DocumentRejected says which photo and why, also as field_errors
    {"photos": [message]}. More than MAX_INSPECTION_PHOTOS are refused (400 `too_many`). Photos
    of one visit add up rather than replace each other. One `document_uploaded` event per photo,
    under the case lock. Call it inside the transaction that completes the step, so a step that
    is refused keeps no photos."""
    uploads = list(uploads)
    rules = document_rules(case, INSPECTION_PHOTO, step_id=step_id)
    _require_may_upload(by, case, INSPECTION_PHOTO, step_id)
    _refuse_closed(case)
    if len(uploads) > MAX_INSPECTION_PHOTOS:
        message = _("Send at most %(count)s photos of one visit.") % {
            "count": localize_digits(MAX_INSPECTION_PHOTOS)
        }
        raise DocumentRejected("too_many", message, field_errors={"photos": [message]})
    checked: list[CheckedFile] = []
    try:
        for number, upload in enumerate(uploads, start=1):
            try:
                checked.append(
                    file_check(upload=upload, allowed_formats=rules.formats, max_bytes=rules.max_bytes)
                )
            except DocumentRejected as rejected:
                message = _("Photo %(number)s (%(name)s) was not accepted: %(reason)s") % {
                    "number": localize_digits(number),
                    "name": str(getattr(upload, "name", "") or "")[:100],
                    "reason": rejected.message,
                }
                raise DocumentRejected(
                    rejected.code, message, status=rejected.status, field_errors={"photos": [message]}
                ) from None
        documents = []
        with transaction.atomic():
            locked = Case.objects.select_for_update().get(pk=case.pk)
            _refuse_closed(locked)
            for photo in checked:
                documents.append(
                    _attach(locked, photo, document_type=INSPECTION_PHOTO, by=by, step_id=step_id, now=now)
                )
    finally:
        for photo in checked:
            photo.close()
    if documents:
        case.event_seq, case.event_hash = locked.event_seq, locked.event_hash
    return documents


def _attach(locked: Case, checked: CheckedFile, *, document_type: str, by, step_id: str, now) -> CaseDocument:
    """Store a checked file as a document of the locked case and log it; the caller holds the lock."""
    from .events import event_append

    stored = file_store(checked=checked)
    previous = None
    if document_type != INSPECTION_PHOTO:  # a corrected document replaces; a visit's photos add up
        previous = (
            CaseDocument.objects.filter(case=locked, document_type=document_type).order_by("-pk").first()
        )
    document = CaseDocument.objects.create(
        case=locked,
        document_type=document_type,
        file=stored,
        original_name=checked.original_name or f"{document_type}.{checked.format}",
        step_id=step_id,
        uploaded_by=by,
        replaces=previous,
    )
    office = getattr(getattr(by, "office_operator", None), "office", None)
    event_append(
        case=locked,
        activity="document_uploaded",
        step_id=step_id,
        actor=by,
        office=office if by.kind == UserKind.OPERATOR else None,
        completed_at=now or timezone.now(),
        data={
            "document": document_type,
            "document_id": document.pk,
            "sha256": stored.sha256,
            "size": stored.size,
            "format": checked.format,
            "replaces": previous.pk if previous else None,
        },
    )
    return document


def _refuse_closed(case: Case) -> None:
    if case.status in CaseStatus.closed():
        raise DocumentRejected(
            "closed",
            _("This case is closed (%(status)s); documents can no longer be added.")
            % {"status": case.get_status_display()},
            status=409,
        )
