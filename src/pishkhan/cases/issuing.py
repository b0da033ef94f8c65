"""Issued documents: permits and certificates as PDF, with a QR code that opens a public
verification page.

    document_issue(*, case, output_id, now=None) -> IssuedDocument
    issued_by_verification_code(code) -> IssuedDocument | None
    issued_find(*, number, check_code) -> IssuedDocument | None
    issued_status(issued, *, today=None) -> str                  "valid" | "expired" | "revoked"
    issued_check_code(issued) -> str                            e.g. "K7QW-3MZD"
    issued_verify_url(issued) -> str
    issued_compare(*, issued, upload) -> bool
    issued_draft(case, *, output_id) -> dict | None            what it would say, before issuing

The PDF is rendered by WeasyPrint from the templates in `cases/templates/cases/pdf/`, in Persian
with Vazirmatn from our own static folder; the renderer is given a URL fetcher that serves that
folder and `data:` URIs and refuses everything else, so rendering never touches the network. The
PDF is stored content-addressed like any file and its SHA-256 recorded, so the verification page
can say both "the city issued this" and "this copy is byte for byte the one it issued".
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets
from pathlib import Path
from urllib.parse import unquote, urlsplit

import segno
from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pishkhan.catalog.definition import Definition, Field, Output
from pishkhan.core.calendar import TEHRAN, to_jalali
from pishkhan.core.templatetags.pishkhan import format_jalali
from pishkhan.core.text import to_ascii_digits, to_persian_digits

from .errors import CaseError
from .files import CHUNK_BYTES, DocumentRejected, checked_from_bytes, file_store
from .models import Case, IssuedDocument, StoredFile
from .selectors import case_definition

STATIC_DIR = (Path(__file__).resolve().parent.parent / "static").resolve()
FONT_FILE = STATIC_DIR / "vendor" / "vazirmatn" / "Vazirmatn-Variable.woff2"
EMBLEM_FILE = STATIC_DIR / "pishkhan" / "img" / "emblem.svg"
KIND_LABELS = {
    "permit": gettext_lazy("Permit"),
    "certificate": gettext_lazy("Certificate"),
    "letter": gettext_lazy("Letter"),
}
# Form answers that identify a person, not the thing permitted: they stay off the document.
PRIVATE_FIELD_TYPES = {"national_id", "mobile", "file", "map_point", "group"}
TEMPLATE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,60}$")
# A PDF sent to the verification page to compare: anything larger cannot be one we issued.
COMPARE_MAX_BYTES = 10 * 1024 * 1024
NUMBER_ATTEMPTS = 5


def _static_only_fetcher():
    """A WeasyPrint URL fetcher that serves files under our static folder and `data:` URIs only."""
    from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

    class StaticOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return super().fetch(url, headers)  # decoded in memory by urllib's DataHandler
            parts = urlsplit(url)
            if parts.scheme == "file" and not parts.netloc:
                path = Path(unquote(parts.path)).resolve()
                if path.is_relative_to(STATIC_DIR) and path.is_file():
                    return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": _media_type(path)})
            # Stops the rendering: a template that asks for anything else is a bug or an injection.
            raise FatalURLFetchingError(f"refused to fetch {url[:200]!r}: only our static files")

    return StaticOnlyFetcher(fail_on_errors=True, allowed_protocols=("file", "data"))


def _media_type(path: Path) -> str:
    return {".woff2": "font/woff2", ".svg": "image/svg+xml", ".png": "image/png", ".css": "text/css"}.get(
        path.suffix, "application/octet-stream"
    )


def pdf_render(html: str) -> bytes:
    """Render standalone HTML to PDF bytes with the static-only fetcher."""
    import weasyprint

    return weasyprint.HTML(
        string=html, base_url=STATIC_DIR.as_uri() + "/", url_fetcher=_static_only_fetcher()
    ).write_pdf()


# --- Reading ----------------------------------------------------------------------------------


def issued_by_verification_code(code: str) -> IssuedDocument | None:
    """The issued document whose QR code carries `code`, or None."""
    if not code or len(code) > 64:
        return None
    return (
        IssuedDocument.objects.select_related("file", "case__district", "case__service")
        .filter(verification_code=code)
        .first()
    )


def issued_check_code(issued: IssuedDocument) -> str:
    """The short code printed on the document and shown on its verification page, for people who type
    the number rather than scan the QR code: derived from the (secret, random) verification code, so
    it cannot be guessed from the number. Eight base32 characters (A–Z, 2–7) in two groups."""
    digest = hashlib.sha256(f"check:{issued.verification_code}".encode()).digest()
    text = base64.b32encode(digest).decode()[:8]
    return f"{text[:4]}-{text[4:]}"


def issued_find(*, number: str, check_code: str) -> IssuedDocument | None:
    """The issued document with this number whose check code matches (any case, with or without the
    dash, in either digit script), or None."""
    number = to_ascii_digits(number or "").strip().upper()
    wanted = re.sub(r"[^A-Z0-9]", "", to_ascii_digits(check_code or "").upper())
    issued = issued_by_number(number)
    if issued is None:
        return None
    actual = issued_check_code(issued).replace("-", "")
    return issued if hmac.compare_digest(actual, wanted) else None


def issued_by_number(number: str) -> IssuedDocument | None:
    return IssuedDocument.objects.filter(number=number).first() if number else None


def issued_status(issued: IssuedDocument, *, today: dt.date | None = None) -> str:
    """ "revoked" once revoked, "expired" after its valid-until day (Tehran), else "valid"."""
    if issued.revoked_at is not None:
        return "revoked"
    today = today or timezone.now().astimezone(TEHRAN).date()
    if issued.valid_until is not None and today > issued.valid_until:
        return "expired"
    return "valid"


def issued_verify_url(issued: IssuedDocument) -> str:
    """The absolute URL of the public verification page (what the QR code encodes)."""
    path = reverse("verify:document", kwargs={"code": issued.verification_code})
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def issued_compare(*, issued: IssuedDocument, upload) -> bool:
    """Whether `upload` is byte for byte the PDF the city issued. Reads at most one byte more than
    the issued file in chunks (a longer file cannot be the same). Raises DocumentRejected `empty`."""
    limit = issued_file_ensure(issued).size
    digest = hashlib.sha256()
    size = 0
    while size <= limit:
        chunk = upload.read(min(CHUNK_BYTES, limit + 1 - size))
        if not chunk:
            break
        size += len(chunk)
        digest.update(chunk)
    if size == 0:
        raise DocumentRejected("empty", _("The file is empty."))
    return size == limit and hmac.compare_digest(digest.hexdigest(), issued.file.sha256)


def issued_file_ensure(issued: IssuedDocument) -> StoredFile:
    """The issued document's PDF, rendering and storing it first when the document was registered
    without one (in bulk, by the simulator or an import): under the case's lock, once — a second
    caller finds it rendered. The PDF shows the number, dates and facts registered at issue."""
    if issued.file_id is not None:
        return issued.file
    with transaction.atomic():
        locked = (
            Case.objects.select_for_update(of=("self",))
            .select_related("district", "service", "applicant")
            .get(pk=issued.case_id)
        )
        current = IssuedDocument.objects.select_related("file").get(pk=issued.pk)
        if current.file_id is None:
            definition = case_definition(locked)
            output = next((o for o in definition.outputs if o.id == current.output_id), None)
            if output is None:
                raise CaseError(
                    "unknown_output",
                    _("The process of this case has no output called “%(output)s”.")
                    % {"output": current.output_id},
                )
            with translation.override("fa"):
                html = render_to_string(
                    _template_names(output),
                    issued_pdf_context(case=locked, definition=definition, output=output, issued=current),
                )
            with checked_from_bytes(
                content=pdf_render(html), format="pdf", name=f"{current.number}.pdf"
            ) as checked:
                current.file = file_store(checked=checked)
            IssuedDocument.objects.filter(pk=current.pk, file__isnull=True).update(file=current.file)
    issued.file = current.file
    return issued.file


# --- Issuing ----------------------------------------------------------------------------------


def _service_short(code: str) -> str:
    """`building-permit` → `BP`: the initials of the service code's words, for readable numbers."""
    return "".join(part[0] for part in code.split("-") if part).upper()[:6] or "DOC"


def _next_number(year: int, short: str) -> str:
    prefix = f"{year}-{short}-"
    # Numbers of one prefix are made in order, so the latest row holds the highest sequence.
    last = IssuedDocument.objects.filter(number__startswith=prefix).order_by("-pk").first()
    sequence = int(last.number.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{sequence:05d}"


def _answer_text(field: Field, value) -> str:
    """An answer as the document prints it (Persian)."""
    if field.type == "boolean":
        return _("Yes") if value else _("No")
    if field.type == "choice":
        return next((o.label.fa for o in field.options if o.value == value), str(value))
    if field.type == "multi_choice":
        labels = {o.value: o.label.fa for o in field.options}
        return "، ".join(labels.get(v, str(v)) for v in value or [])
    if field.type == "money":
        from pishkhan.core.templatetags.pishkhan import money

        return money(value)
    if field.type == "jalali_date":
        try:
            return format_jalali(dt.date.fromisoformat(str(value)), "long")
        except ValueError:
            return str(value)
    text = str(value)
    return to_persian_digits(text[:300] + ("…" if len(text) > 300 else ""))


def _particulars(definition: Definition, answers: dict) -> list[tuple[str, str]]:
    """The answers that describe what is permitted (area, place, plate, address …), labelled."""
    rows = []
    for field in definition.fields:
        if field.type in PRIVATE_FIELD_TYPES or field.id not in answers:
            continue
        value = answers[field.id]
        if value in (None, "", []):
            continue
        rows.append((field.label.fa, _answer_text(field, value)))
    return rows


def _qr_data_uri(url: str) -> str:
    # Error correction M survives a fold or a stamp across the code; SVG stays sharp at any size.
    return segno.make(url, error="m", micro=False).svg_data_uri(scale=4, border=2, dark="#111")


def _template_names(output: Output) -> list[str]:
    """The output's own template when one exists by that name, else its kind's, else the certificate."""
    names = []
    if output.template and TEMPLATE_NAME.match(output.template):
        names.append(f"cases/pdf/{output.template}.html")
    return [*names, f"cases/pdf/{output.kind}.html", "cases/pdf/certificate.html"]


def issued_pdf_context(*, case: Case, definition: Definition, output: Output, issued: IssuedDocument) -> dict:
    """What the PDF templates see (documented in cases/pdf/_base.html)."""
    applicant = case.applicant
    return {
        "font_url": FONT_FILE.as_uri(),
        "emblem_url": EMBLEM_FILE.as_uri(),
        "city_name": settings.CITY_NAME_FA,
        "kind": output.kind,
        "kind_label": KIND_LABELS.get(output.kind, KIND_LABELS["certificate"]),
        "title": output.title.fa,
        "service_title": definition.title.fa,
        "number": issued.number,
        "tracking_code": case.tracking_code,
        "holder_name": applicant.get_full_name() or "",
        "district_name": case.district.name_fa,
        "issued_at": issued.issued_at,
        "valid_until": issued.valid_until,
        "particulars": _particulars(definition, case.answers or {}),
        "verify_url": issued_verify_url(issued),
        "qr_data_uri": _qr_data_uri(issued_verify_url(issued)),
        "check_code": issued_check_code(issued),
    }


def issued_draft(case: Case, *, output_id: str) -> dict | None:
    """What the document of output `output_id` would say if it were issued now, for the signatory
    who signs before it is: {"output", "kind", "kind_label", "title" (Persian, as printed),
    "title_en", "service_title", "district_name", "valid_days", "particulars": [(label, value)]}
    — the particulars exactly as the PDF prints them (Persian; no national IDs or mobiles). None
    when the case's definition has no such output. Renders nothing and writes nothing."""
    definition = case_definition(case)
    output = next((o for o in definition.outputs if o.id == output_id), None)
    if output is None:
        return None
    with translation.override("fa"):  # the document is printed in Persian, whatever the page's language
        particulars = _particulars(definition, case.answers or {})
    return {
        "output": output.id,
        "kind": output.kind,
        "kind_label": str(KIND_LABELS.get(output.kind, KIND_LABELS["certificate"])),
        "title": output.title.fa,
        "title_en": output.title.en,
        "service_title": definition.title.fa,
        "district_name": case.district.name_fa,
        "valid_days": output.valid_days,
        "particulars": particulars,
    }


def document_issue(*, case: Case, output_id: str, now: dt.datetime | None = None) -> IssuedDocument:
    """Issue the output `output_id` of the case's definition as a PDF and return the IssuedDocument.

    Idempotent: when the case already has a document of that output that is not revoked, that one is
    returned and nothing is written. Otherwise a readable number (`1404-BP-00017`: Jalali year,
    the service code's initials, a sequence), a random verification code, the PDF (stored
    content-addressed, its SHA-256 recorded) and a `document_issued` event, all in one transaction
    under the case lock.

    Raises CaseError `unknown_output` (400) when the definition has no such output."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            Case.objects.select_for_update(of=("self",))
            .select_related("district", "service", "applicant")
            .get(pk=case.pk)
        )
        existing = IssuedDocument.objects.filter(
            case=locked, output_id=output_id, revoked_at__isnull=True
        ).first()
        if existing is not None:
            return existing
        definition = case_definition(locked)
        output = next((o for o in definition.outputs if o.id == output_id), None)
        if output is None:
            raise CaseError(
                "unknown_output",
                _("The process of this case has no output called “%(output)s”.") % {"output": output_id},
            )
        issued_day = now.astimezone(TEHRAN).date()
        valid_until = issued_day + dt.timedelta(days=output.valid_days) if output.valid_days else None
        short = _service_short(locked.service.code)
        issued = None
        for _attempt in range(NUMBER_ATTEMPTS):
            candidate = IssuedDocument(
                case=locked,
                output_id=output_id,
                number=_next_number(to_jalali(issued_day).year, short),
                verification_code=secrets.token_urlsafe(16),
                title_fa=output.title.fa,
                title_en=output.title.en,
                issued_at=now,
                valid_until=valid_until,
            )
            with translation.override("fa"):
                html = render_to_string(
                    _template_names(output),
                    issued_pdf_context(case=locked, definition=definition, output=output, issued=candidate),
                )
            content = pdf_render(html)
            with checked_from_bytes(content=content, format="pdf", name=f"{candidate.number}.pdf") as checked:
                candidate.file = file_store(checked=checked)
            try:
                # Another case of a service with the same initials may take the number first (the
                # unique constraint says so): try the next number, re-rendered since it is printed.
                with transaction.atomic():
                    candidate.save(force_insert=True)
            except IntegrityError:
                continue
            issued = candidate
            break
        if issued is None:
            raise CaseError("busy", _("The document could not be numbered; try again."), status=409)
        from .events import event_append

        event_append(
            case=locked,
            activity="document_issued",
            completed_at=now,
            data={
                "output": output_id,
                "kind": output.kind,
                "number": issued.number,
                "document_id": issued.pk,
                "sha256": issued.file.sha256,
                "valid_until": valid_until.isoformat() if valid_until else None,
            },
        )
    case.event_seq, case.event_hash = locked.event_seq, locked.event_hash
    return issued
