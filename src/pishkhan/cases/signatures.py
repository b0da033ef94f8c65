"""Signature steps: what the signatory reads, and the signature that completes the step.

    signature_required(step) -> bool
    signature_sheet(case, *, step_id) -> SignatureSheet
    signature_sign(*, case, step_id, outcome, actor, confirmed, code, shown_sha256, address=None,
                   now=None) -> CaseEvent

A signature is an explicit act, not a click on "approve": the signatory reads the sheet (the
case's summary and the draft of every document the step leads to issuing), ticks that they have
read it and sign, and types a fresh code from their authenticator app (accounts.services.
staff_totp_check: a wrong code, or one already used — to sign in, or to sign a moment before — is
refused). The event that completes the step keeps, as data["evidence"]["signature"]:

    {"signed_by": user id, "signed_at": ISO time, "sha256": digest of the sheet, "method": "totp",
     "outputs": [output ids the signature covers]}

The digest is the SHA-256 of the sheet's canonical JSON (core.hashchain.canonical_json): the
case's tracking code, version and step, its answers, its documents by content hash, and each
draft's particulars as they will be printed. The page carries the digest it showed; when the
case changed while the signatory was reading (a new document, another answer), the digests
differ and the signature is refused (409 `changed`) before any code is spent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from pishkhan.accounts.models import RoleBinding
from pishkhan.accounts.services import SignInError, staff_totp_check
from pishkhan.catalog.definition import Definition, Step
from pishkhan.core.hashchain import canonical_json

from .errors import CaseError
from .issuing import issued_draft
from .models import Case, CaseEvent, PositionState
from .selectors import case_definition
from .services import case_advance

# The outcomes that sign; a rejection, a return or a referral is no signature (a reject still
# needs its reason, as everywhere).
SIGNING_OUTCOMES = ("approve", "done")
# Automatic steps a signature leads through before a person acts again; bounded for safety.
MAX_AUTOMATIC_HOPS = 20


@dataclass(frozen=True)
class SignatureSheet:
    """What the signatory of step `step_id` reads before signing, and its digest."""

    step_id: str
    tracking_code: str
    drafts: list[dict] = field(default_factory=list)  # issuing.issued_draft of each output
    documents: list[dict] = field(default_factory=list)  # {"type", "name", "sha256"}
    sha256: str = ""


def signature_required(step: Step | None) -> bool:
    """Whether someone signs at `step`: a step of kind `signature`, or one flagged `signature`."""
    return step is not None and (step.kind == "signature" or bool(step.signature))


def _outputs_after(definition: Definition, step: Step) -> list[str]:
    """Output ids of the issue_document steps that a signing outcome of `step` leads to through
    automatic steps, forks and joins only — what is issued on the strength of this signature."""
    outputs: list[str] = []
    seen: set[str] = set()
    queue = [o.to for o in step.outcomes if o.outcome in SIGNING_OUTCOMES]
    while queue and len(seen) < MAX_AUTOMATIC_HOPS:
        target = definition.step(queue.pop(0))
        if target is None or target.id in seen:
            continue
        seen.add(target.id)
        if target.kind == "automatic":
            if target.action == "issue_document" and target.output and target.output not in outputs:
                outputs.append(target.output)
            queue += [o.to for o in target.outcomes]
        elif target.kind == "join" and target.next:
            queue.append(target.next)
        elif target.kind == "fork":
            queue += list(target.branches)
    return outputs


def signature_sheet(case: Case, *, step_id: str) -> SignatureSheet:
    """The sheet the signatory of `step_id` reads (see the module docstring), with its digest.
    Reads only; the same case in the same state gives the same digest in any page language."""
    definition = case_definition(case)
    step = definition.step(step_id)
    drafts = []
    for output_id in _outputs_after(definition, step) if step is not None else []:
        draft = issued_draft(case, output_id=output_id)
        if draft is not None:
            drafts.append(draft)
    documents = [
        {"type": document.document_type, "name": document.original_name, "sha256": document.file.sha256}
        for document in case.documents.select_related("file").order_by("pk")
    ]
    content = {
        "case": case.tracking_code,
        "service": case.service.code,
        "version": definition.version,
        "step": step_id,
        "answers": case.answers or {},
        "documents": [[d["type"], d["sha256"]] for d in documents],
        "drafts": [
            {
                "output": draft["output"],
                "title": draft["title"],
                "valid_days": draft["valid_days"],
                "particulars": [list(row) for row in draft["particulars"]],
            }
            for draft in drafts
        ],
    }
    return SignatureSheet(
        step_id=step_id,
        tracking_code=case.tracking_code,
        drafts=drafts,
        documents=documents,
        sha256=hashlib.sha256(canonical_json(content)).hexdigest(),
    )


def signature_sign(
    *,
    case: Case,
    step_id: str,
    outcome: str,
    actor,
    confirmed: bool,
    code: str,
    shown_sha256: str,
    address: str | None = None,
    now: dt.datetime | None = None,
) -> CaseEvent:
    """Sign: complete the signature step `step_id` of `case` with `outcome` (approve or done) as
    `actor`, who confirmed reading the sheet whose digest was `shown_sha256` and typed `code`
    from their authenticator. Returns the event (see the module docstring for its evidence).

    Refused with CaseError, nothing changed, in this order (so a code is spent only on a
    signature that can go through): a step where nobody signs, or an outcome that is no
    signature (400 `not_signature`); the step not open (409 `stale`), held by someone else (409
    `claimed`), a role the actor does not hold (403 `forbidden`); no confirmation (400
    `confirmation_required`, on `confirm`); a sheet that changed since it was shown (409
    `changed`); the authenticator code wrong or replayed (403 `totp_wrong`, `totp_replayed`),
    the account locked after too many (429 `locked`) or without an authenticator (400
    `not_enrolled`), on `code`; then any refusal of case_advance."""
    now = now or timezone.now()
    definition = case_definition(case)
    step = definition.step(step_id) if isinstance(step_id, str) else None
    if not signature_required(step) or outcome not in SIGNING_OUTCOMES:
        raise CaseError("not_signature", _("Nobody signs at this step with this decision."), 400)
    _require_may_sign(actor, case=case, step=step)
    if not confirmed:
        raise CaseError(
            "confirmation_required",
            _("Tick “I have read this and I sign it” to sign."),
            400,
            {"confirm": [_("Required to sign.")]},
        )
    sheet = signature_sheet(case, step_id=step_id)
    if (shown_sha256 or "") != sheet.sha256:
        raise CaseError(
            "changed",
            _(
                "The case changed while you were reading it, so this is no longer what you were "
                "shown. Read it again, then sign; nothing was signed."
            ),
            409,
        )
    try:
        staff_totp_check(user=actor, code=code, purpose="signature", address=address, now=now)
    except SignInError as refused:
        raise CaseError(refused.code, refused.message, refused.status, {"code": [refused.message]}) from None
    return case_advance(
        case=case,
        step_id=step_id,
        outcome=outcome,
        actor=actor,
        evidence={
            "signature": {
                "signed_by": actor.pk,
                "signed_at": now.isoformat(),
                "sha256": sheet.sha256,
                "method": "totp",
                "outputs": [draft["output"] for draft in sheet.drafts],
            }
        },
        now=now,
    )


def _require_may_sign(actor, *, case: Case, step: Step) -> None:
    """The checks case_advance makes again under the case lock, made first here so that a step
    someone else signed, or one the actor may not sign, does not spend their code."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise CaseError("forbidden", _("Sign in first."), 403)
    position = case.positions.filter(
        step_id=step.id, state__in=(PositionState.QUEUED, PositionState.CLAIMED)
    ).first()
    if position is None:
        raise CaseError(
            "stale",
            _("This step is already done, or is not open now; reload the page to see the case as it is."),
            409,
        )
    if position.assignee_id is not None and position.assignee_id != actor.pk:
        raise CaseError("claimed", _("Someone else is working on this step."), 409)
    if (
        position.assignee_id is None
        and not RoleBinding.objects.filter(
            Q(district__isnull=True) | Q(district=case.district_id), user=actor, role__code=position.role
        ).exists()
    ):
        raise CaseError(
            "forbidden", _("You do not hold the role this step needs in this case's district."), 403
        )
