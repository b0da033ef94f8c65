"""Documents of a case: what the applicant (or their office, or staff) uploads.

    document_upload(*, case, document_type, upload, by, step_id="", now=None) -> CaseDocument
    document_rules(case, document_type) -> DocumentRules

The definition the case runs on says which documents it takes, in which formats and up to which
size; files.file_check decides by the content whether a file is one of those; nothing reaches
storage until it has passed.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from pishkhan.accounts.models import UserKind
from pishkhan.catalog.definition import Document

from .files import DocumentRejected, file_check, file_store
from .models import Case, CaseDocument, CaseStatus
from .selectors import case_definition, case_visible_to

# Roles that may read every case but change none (docs/case-engine.md, case_visible_to).
READ_ONLY_ROLES = ("auditor", "council_observer")


@dataclass(frozen=True)
class DocumentRules:
    """What a document type of a case accepts: the definition's entry, its formats and the size
    limit in bytes (the definition's max_size_mb, capped by settings.UPLOAD_MAX_MB)."""

    document: Document
    formats: list[str]
    max_bytes: int


def document_rules(case: Case, document_type: str) -> DocumentRules:
    """The rules for `document_type` on `case`. Raises DocumentRejected(`unknown_document`) when the
    case's definition asks for no such document."""
    definition = case_definition(case)
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
    rules = document_rules(case, document_type)
    if not _may_upload(by, case):
        raise DocumentRejected("forbidden", _("You may not add documents to this case."), status=403)
    _refuse_closed(case)
    checked = file_check(upload=upload, allowed_formats=rules.formats, max_bytes=rules.max_bytes)
    try:
        with transaction.atomic():
            locked = Case.objects.select_for_update().get(pk=case.pk)
            _refuse_closed(locked)
            stored = file_store(checked=checked)
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
            from .events import event_append

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
    finally:
        checked.close()
    case.event_seq, case.event_hash = locked.event_seq, locked.event_hash
    return document


def _refuse_closed(case: Case) -> None:
    if case.status in CaseStatus.closed():
        raise DocumentRejected(
            "closed",
            _("This case is closed (%(status)s); documents can no longer be added.")
            % {"status": case.get_status_display()},
            status=409,
        )
