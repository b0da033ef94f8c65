"""How the API answers a refusal: always JSON of one shape, in the request's language.

    {"code": "not_found", "detail": "No case with this tracking code is visible to you."}
    {"code": "invalid", "detail": "Some fields are not valid: answers.area_m2.",
     "errors": {"answers.area_m2": ["Enter a number between 1 and 1000."]}}

`code` is stable and meant for programs; `detail` is for people; `errors` (bad input only) maps the
path of each field to its messages: dotted for nested fields, list items counted from 0 in
brackets (`applicant.mobile`, `answers.owners[1].national_id`), as cases.answers writes them. Refusals of the services (CaseError, DocumentRejected, AccountsError) keep their
own code and HTTP status."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from pishkhan.accounts.services import AccountsError
from pishkhan.cases.errors import CaseError
from pishkhan.cases.files import DocumentRejected

NON_FIELD = "non_field_errors"


def error_paths(detail, prefix: str = "") -> dict[str, list[str]]:
    """Flatten DRF's nested error detail (dicts of lists of dicts …) into {dotted path: messages}."""
    found: dict[str, list[str]] = {}

    def add(path: str, message) -> None:
        found.setdefault(path or NON_FIELD, []).append(str(message))

    def walk(value, path: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path and key != NON_FIELD else (path or str(key)))
        elif isinstance(value, list | tuple):
            if all(not isinstance(item, dict | list | tuple) for item in value):
                for item in value:
                    add(path, item)
            else:
                for index, item in enumerate(value):
                    if item not in ({}, [], None):
                        walk(item, f"{path}[{index}]" if path else f"[{index}]")
        else:
            add(path, value)

    walk(detail, prefix)
    return found


def invalid_response(errors: dict[str, list[str]], *, code: str = "invalid", detail: str = "") -> Response:
    """A 400 answer for bad input, naming every field in `errors` ({path: [messages]})."""
    if not detail:
        detail = _("Some fields are not valid: %(fields)s.") % {"fields": ", ".join(errors)}
    return Response({"code": code, "detail": detail, "errors": errors}, status=status.HTTP_400_BAD_REQUEST)


def _field_errors(field_errors) -> dict[str, list[str]]:
    return {
        str(path): [str(m) for m in (messages if isinstance(messages, list | tuple) else [messages])]
        for path, messages in (field_errors or {}).items()
    }


# The engine names fields relative to one part of the request; the API names them from its root.
_CASE_ERROR_FIELDS = {
    "invalid_answers": "answers",
    "invalid_request": "request",
    "documents_missing": "documents",
}


def _case_error_response(exc: CaseError) -> Response:
    if exc.code == "unknown_outcome":
        # The engine's field_errors lists the outcomes the step allows; say so in words, and give
        # the list to programs as `allowed`.
        response = invalid_response({"outcome": [exc.message]}, code=exc.code, detail=exc.message)
        response.data["allowed"] = list(exc.field_errors.get("outcome", []))
        return response
    prefix = _CASE_ERROR_FIELDS.get(exc.code)
    errors = {
        (f"{prefix}.{path}" if prefix else path): messages
        for path, messages in _field_errors(exc.field_errors).items()
    }
    if exc.status == status.HTTP_400_BAD_REQUEST and errors:
        return invalid_response(errors, code=exc.code, detail=exc.message)
    body = {"code": exc.code, "detail": exc.message}
    if errors:
        body["errors"] = errors
    return Response(body, status=exc.status)


def api_exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER for the API views (set per view by api.views.ApiView, so the site's
    pages are not affected). Returns None for anything else, which DRF lets through as a 500."""
    if isinstance(exc, DocumentRejected):
        if exc.status == status.HTTP_400_BAD_REQUEST:
            # The field the refusal names (an inspection's `photos`), else the upload's own.
            field = "document_type" if exc.code == "unknown_document" else "file"
            errors = _field_errors(exc.field_errors) or {field: [exc.message]}
            return invalid_response(errors, code=exc.code, detail=exc.message)
        return Response({"code": exc.code, "detail": exc.message}, status=exc.status)
    if isinstance(exc, CaseError):
        return _case_error_response(exc)
    if isinstance(exc, AccountsError):
        return Response({"code": exc.code, "detail": exc.message}, status=exc.status)

    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = error_paths(exc.detail)
        invalid = invalid_response(errors)
        response.data = invalid.data
        return response
    if isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        detail = exc.detail if isinstance(exc.detail, str) else exc.default_detail
    else:  # Django's Http404 and PermissionDenied, which DRF turned into a response
        code = "not_found" if response.status_code == status.HTTP_404_NOT_FOUND else "permission_denied"
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
    response.data = {"code": code, "detail": str(detail)}
    return response
