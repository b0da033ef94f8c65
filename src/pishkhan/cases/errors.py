"""The one exception the case engine refuses with (re-exported by cases.services)."""

from __future__ import annotations


class CaseError(Exception):
    """A case operation was refused and nothing changed.

    code: a stable machine-readable word (docs/case-engine.md lists them: `stale`,
    `unknown_outcome`, `invalid_answers` …); message: a translated sentence a person can act on;
    status: the HTTP status an API or a view answers with (400 bad input, 403 not yours to do,
    404 no such step, 409 the case has moved on); field_errors: {field path or name: [messages]}
    for input that names fields (answers, a correction request, missing documents)."""

    def __init__(self, code: str, message, status: int = 400, field_errors: dict | None = None):
        super().__init__(str(message))
        self.code = code
        self.message = str(message)
        self.status = status
        self.field_errors = dict(field_errors or {})

    def to_dict(self) -> dict:
        """The error as the API shows it: {"code", "message", "field_errors"?}."""
        data = {"code": self.code, "message": self.message}
        if self.field_errors:
            data["field_errors"] = self.field_errors
        return data
