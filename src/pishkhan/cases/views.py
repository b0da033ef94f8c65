"""Files of a case, streamed after a permission check, and the public verification page of issued
documents.

    cases/<tracking_code>/documents/<id>/           document_download   (who may see the case)
    cases/<tracking_code>/issued/<number>.pdf       issued_download     (who may see the case)
    verify/                                         verify_lookup       (public: number + check code)
    verify/<code>/                                  issued_verify       (public: what the QR opens)

A person who may not see a case gets 404, never 403, so a tracking code or document id cannot be
probed for existence. Files go through Django, never as a storage URL (a signed S3 link would work
for anyone who gets hold of it). At scale, nginx can take the streaming over with X-Accel-Redirect
to an internal location after the same check.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from pishkhan.core.calendar import TEHRAN
from pishkhan.core.ratelimit import client_address, rate_limit_hit

from .files import FORMATS, DocumentRejected, file_open
from .issuing import (
    COMPARE_MAX_BYTES,
    KIND_LABELS,
    issued_by_verification_code,
    issued_check_code,
    issued_compare,
    issued_file_ensure,
    issued_find,
    issued_status,
)
from .models import Case, CaseDocument, IssuedDocument, StoredFile
from .selectors import case_definition, case_visible_to

# Types a browser may show inline for the staff preview; everything else is always a download.
PREVIEWABLE = {"application/pdf", "image/png", "image/jpeg"}
# Public verification: attempts per client address in a window, for comparing files and for the
# number + check code lookup (which must not become a way to guess check codes).
VERIFY_ATTEMPTS = 30
VERIFY_WINDOW = dt.timedelta(minutes=10)


def _visible_case_or_404(request, tracking_code: str) -> Case:
    case = Case.objects.filter(tracking_code=tracking_code).first()
    if case is None or not case_visible_to(request.user, case):
        raise Http404
    return case


def _stream(request, stored: StoredFile, filename: str) -> FileResponse:
    preview = request.GET.get("preview") == "1" and stored.content_type in PREVIEWABLE
    response = FileResponse(
        file_open(stored), content_type=stored.content_type, as_attachment=not preview, filename=filename
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    if not (preview and stored.content_type == "application/pdf"):
        # Whatever a file turns out to be, a browser that renders it runs no script with our origin.
        # Chrome refuses to start its PDF viewer under a sandbox, so an inline PDF goes without; it
        # was checked for JavaScript on upload and is served as application/pdf only (nosniff).
        response["Content-Security-Policy"] = "sandbox"
    return response


def _download_name(name: str, stored: StoredFile) -> str:
    """The file's own name, with the extension of what it really is."""
    extensions = next((exts for mime, exts in FORMATS.values() if mime == stored.content_type), ("bin",))
    stem, _dot, extension = name.rpartition(".")
    if extension.lower() in extensions and stem:
        return name
    return f"{name or 'document'}.{extensions[0]}"


@login_required
@xframe_options_sameorigin
@require_http_methods(["GET", "HEAD"])
def document_download(request, tracking_code: str, document_id: int):
    """A case document, to whoever may see the case; 404 to anyone else."""
    case = _visible_case_or_404(request, tracking_code)
    document = CaseDocument.objects.select_related("file").filter(case=case, pk=document_id).first()
    if document is None:
        raise Http404
    return _stream(request, document.file, _download_name(document.original_name, document.file))


@login_required
@xframe_options_sameorigin
@require_http_methods(["GET", "HEAD"])
def issued_download(request, tracking_code: str, number: str):
    """An issued PDF, to whoever may see the case; 404 to anyone else."""
    case = _visible_case_or_404(request, tracking_code)
    issued = IssuedDocument.objects.select_related("file").filter(case=case, number=number).first()
    if issued is None:
        raise Http404
    return _stream(request, issued_file_ensure(issued), f"{issued.number}.pdf")


def _allowed(request, purpose: str) -> bool:
    address = client_address(request) or "unknown"
    return rate_limit_hit(key=f"verify:{purpose}:{address}", limit=VERIFY_ATTEMPTS, window=VERIFY_WINDOW)


# No CSRF token: the comparison changes nothing and needs no session, and leaving it out lets the
# size check below run before anything reads the request body.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def issued_verify(request, code: str):
    """The public page a document's QR code opens: is it one the city issued, is it still valid, and
    (POST a PDF) is this copy unchanged. It shows the document's particulars and nothing about the
    person it was issued to."""
    issued = issued_by_verification_code(code)
    if issued is None:
        return render(request, "cases/verify_unknown.html", status=404)
    # Documents registered in bulk get their PDF now (once); only a real code gets this far.
    issued_file_ensure(issued)
    comparison = None
    error = ""
    status = 200
    if request.method == "POST":
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if not _allowed(request, "compare"):
            error, status = _("Too many checks from your connection; try again in a few minutes."), 429
        elif length > COMPARE_MAX_BYTES:
            # Answered without reading the body: no PDF we issue is anywhere near this size.
            comparison = "different"
        elif "file" not in request.FILES:
            error, status = _("Choose the PDF file to compare."), 400
        else:
            try:
                comparison = (
                    "identical"
                    if issued_compare(issued=issued, upload=request.FILES["file"])
                    else "different"
                )
            except DocumentRejected as rejected:
                error, status = rejected.message, rejected.status
    context = {
        "issued": issued,
        "state": issued_status(issued),
        "kind_label": KIND_LABELS.get(_issued_kind(issued), KIND_LABELS["certificate"]),
        "service_title": issued.case.service.title_fa,
        "district_name": issued.case.district.name_fa,
        "issued_day": issued.issued_at.astimezone(TEHRAN).date(),
        "check_code": issued_check_code(issued),
        "comparison": comparison,
        "error": error,
    }
    response = render(request, "cases/verify.html", context, status=status)
    response["Referrer-Policy"] = "no-referrer"  # the URL holds the verification code
    response["X-Robots-Tag"] = "noindex"
    return response


def _issued_kind(issued: IssuedDocument) -> str:
    """The kind (permit, certificate, letter) of the output the document was issued as."""
    output = next((o for o in case_definition(issued.case).outputs if o.id == issued.output_id), None)
    return output.kind if output else ""


@never_cache
@require_http_methods(["GET", "POST"])
def verify_lookup(request):
    """For a paper copy whose QR code will not scan (or is not trusted): the document number and the
    check code printed beside the QR code lead to the same verification page."""
    error = ""
    status = 200
    number = check_code = ""
    if request.method == "POST":
        number = request.POST.get("number", "")[:40]
        check_code = request.POST.get("check_code", "")[:20]
        if not _allowed(request, "lookup"):
            error, status = _("Too many checks from your connection; try again in a few minutes."), 429
        else:
            issued = issued_find(number=number, check_code=check_code)
            if issued is not None:
                return redirect("verify:document", code=issued.verification_code)
            error, status = (
                _("No document issued by the city has this number and check code. Check both and try again."),
                404,
            )
    return render(
        request,
        "cases/verify_lookup.html",
        {"error": error, "number": number, "check_code": check_code},
        status=status,
    )
