"""The words BPMN import and export share: XML namespaces, Pishkhan's own extension attributes, and
the names people give to outcomes and end events in the modelling tools (Persian and English).

Kept apart from `bpmn_import` and `bpmn_export` so neither imports the other; `catalog.bpmn` is the
public face of all three."""

from __future__ import annotations

import re

from pishkhan.core.text import search_fold

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
# Pishkhan's extension attributes (`pishkhan:kind`, `pishkhan:deadlineDays`, …). A namespace is a
# name, not an address: it never has to resolve, it must never change, or files exported before the
# change would import as foreign ones and lose what only these attributes carry.
PISHKHAN_NS = "https://pishkhan.example/bpmn"
# The `language` of the condition expressions we write: CEL, named by its specification.
CEL_LANGUAGE = "https://github.com/google/cel-spec"
# The parts of a definition BPMN has no word for. Export carries them as JSON in
# `<pishkhan:definition>` (the process's extensionElements) so a file that went through a modelling
# tool comes back whole; version and status are left out, an import is always a new draft.
CARRIED_KEYS = (
    "description", "department", "category", "keywords", "legal_basis", "channels", "eligibility",
    "legal_deadline_days", "service_norm_days", "documents", "fields", "fees", "outputs",
)  # fmt: skip

# Namespaces whose content we read or deliberately leave aside (diagram interchange is redrawn on
# export); anything in another namespace is a vendor's extension and is reported, never dropped quietly.
KNOWN_NAMESPACES = frozenset({BPMN_NS, BPMNDI_NS, DC_NS, DI_NS, XSI_NS, PISHKHAN_NS})

# Default flow names for outcomes that carry no label: (Persian, English).
OUTCOME_NAMES = {
    "approve": ("تایید", "Approve"),
    "reject": ("رد", "Reject"),
    "return": ("بازگشت برای اصلاح", "Return for correction"),
    "refer": ("ارجاع", "Refer"),
    "done": ("انجام شد", "Done"),
}

# Words that name an outcome in a flow's name, checked in this order: a negation ("عدم تایید",
# "not approved") must win over the approval it contains. Multi-word phrases match inside the name
# (spaces and half-spaces ignored), single words match whole tokens only ("no" must not match "note").
_OUTCOME_WORDS: list[tuple[str, tuple[str, ...]]] = [
    (
        "reject",
        (
            "reject", "rejected", "deny", "denied", "decline", "declined", "refuse", "refused", "not",
            "no", "رد", "مردود", "خیر", "نه", "عدم تایید", "عدم موافقت", "عدم پذیرش", "رد شد",
        ),
    ),
    (
        "return",
        (
            "return", "returned", "back", "correct", "correction", "resubmit", "rework", "incomplete",
            "بازگشت", "برگشت", "عودت", "اصلاح", "نقص", "ناقص", "رفع نقص",
        ),
    ),
    ("refer", ("refer", "referral", "forward", "escalate", "ارجاع", "ارسال به")),
    (
        "done",
        ("done", "complete", "completed", "finished", "paid", "انجام", "انجام شد", "پرداخت شد", "تکمیل"),
    ),
    (
        "approve",
        (
            "approve", "approved", "accept", "accepted", "yes", "ok", "confirm", "confirmed", "valid",
            "تایید", "تایید شد", "قبول", "موافقت", "بله", "بلی", "پذیرش", "صحیح",
        ),
    ),
]  # fmt: skip

_END_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("rejected", ("reject", "rejected", "refused", "denied", "رد", "مردود", "عدم تایید", "رد شد")),
    ("withdrawn", ("withdraw", "withdrawn", "cancel", "cancelled", "canceled", "انصراف", "لغو", "منصرف")),
    (
        "approved",
        ("approve", "approved", "issued", "issue", "granted", "صدور", "صادر", "تایید", "تایید شد", "موافقت"),
    ),
]

# Hints in a task's name for the step kind a plain user task most likely is.
_KIND_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("payment", ("pay", "payment", "fee", "fees", "پرداخت", "واریز", "عوارض")),
    ("inspection", ("inspect", "inspection", "visit", "بازدید", "بازرسی محل")),
    ("signature", ("sign", "signature", "امضا", "امضاء")),
]

# Hints in an automatic task's name for its action.
_ACTION_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("issue_document", ("issue", "print", "generate", "صدور", "چاپ", "صادر")),
    ("notify", ("notify", "notification", "sms", "email", "message", "اطلاع", "پیامک", "ابلاغ", "اعلام")),
]

_TOKEN_SPLIT = re.compile(r"[\W_]+")


def _match(words: list[tuple[str, tuple[str, ...]]], name: str) -> str:
    folded = search_fold(name or "")
    if not folded:
        return ""
    tokens = set(_TOKEN_SPLIT.split(folded))
    joined = folded.replace(" ", "")
    for value, candidates in words:
        for word in candidates:
            word = search_fold(word)
            if (" " in word and word.replace(" ", "") in joined) or word in tokens:
                return value
            # Persian words take suffixes in names ("امضای معاون", "بازدیدها"): a long enough Persian
            # word also matches the start of a token. Short ones ("رد") would match too much ("ردیف").
            if not word.isascii() and len(word) >= 4 and any(token.startswith(word) for token in tokens):
                return value
    return ""


def outcome_from_name(name: str) -> str:
    """The outcome a flow's name says ("approve/تایید" → `approve`, "عدم تایید" → `reject`), or ""
    when the name says none."""
    return _match(_OUTCOME_WORDS, name)


def end_result_from_name(name: str) -> str:
    """The result an end event's name says (`approved`, `rejected`, `withdrawn`), or ""."""
    return _match(_END_WORDS, name)


def kind_from_name(name: str) -> str:
    """The work kind a user task's name suggests (`payment`, `inspection`, `signature`), or ""."""
    return _match(_KIND_WORDS, name)


def action_from_name(name: str) -> str:
    """The automatic action a service task's name suggests (`issue_document`, `notify`), or ""."""
    return _match(_ACTION_WORDS, name)


def outcome_words_only(name: str) -> bool:
    """True when every word of a flow's name is an outcome word ("approve/تایید", "بله", "رد شد"):
    such a name says the outcome and nothing a button label would add."""
    tokens = [t for t in _TOKEN_SPLIT.split(search_fold(name or "")) if t]
    words = {
        search_fold(w) for _, candidates in _OUTCOME_WORDS for phrase in candidates for w in phrase.split()
    }
    return bool(tokens) and all(token in words for token in tokens)
