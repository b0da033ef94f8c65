"""Between the edit form and the stored draft: the forms' initial values from a definition, the new
body from the forms, and the validator's problems put back next to the fields they concern.

    edit_initial(definition) -> (steps, documents)
    edit_body(body, step_forms, document_forms) -> EditedBody
    problems_to_forms(problems, edited, step_forms, document_forms) -> list[Problem]

Removing a step joins its neighbours: every reference to it (outcomes, fork branches, a join's
`next`, `start`) moves to the step it led to on its main path, so removing a needless review
leaves the process connected; what still does not hold together is reported by the validator."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

from pishkhan.catalog.definition import FORWARD_OUTCOMES, Definition
from pishkhan.catalog.loader import Problem

from .forms import plain_number

_STEP_PATH = re.compile(r"^steps\[(\d+)\](?:\.([a-z_]+))?")
_DOCUMENT_PATH = re.compile(r"^documents\[(\d+)\](?:\.([a-z_]+))?")
STEP_FIELDS = {
    "title": "title_fa",
    "role": "role",
    "deadline_days": "deadline_days",
    "discretionary": "discretionary",
    "signature": "signature",
}
DOCUMENT_FIELDS = {
    "id": "id",
    "title": "title_fa",
    "formats": "formats",
    "max_size_mb": "max_size_mb",
    "step": "step",
    "required": "required",
}


@dataclass
class EditedBody:
    body: dict
    step_ids: list[str] = field(default_factory=list)  # the new body's steps, by index
    document_ids: list[str] = field(default_factory=list)  # the new body's documents, by index
    removed_steps: list[str] = field(default_factory=list)


def edit_initial(definition: Definition) -> tuple[list[dict], list[dict]]:
    """Initial values of the step forms (work steps only: gateways and end steps are kept as they
    are) and of the document forms."""
    steps = [
        {
            "id": s.id,
            "title_fa": s.title.fa if s.title else "",
            "title_en": s.title.en if s.title else "",
            "role": s.role,
            "deadline_days": s.deadline_days,
            "discretionary": s.discretionary,
            "signature": s.signature,
        }
        for s in definition.work_steps
    ]
    documents = [
        {
            "id": d.id,
            "title_fa": d.title.fa,
            "title_en": d.title.en,
            "formats": list(d.formats),
            "max_size_mb": d.max_size_mb,
            "step": d.step,
            "required": d.required,
        }
        for d in definition.documents
    ]
    return steps, documents


def _text(fa: str, en: str) -> dict:
    return {"fa": fa, "en": en} if en else {"fa": fa}


def edit_body(body: dict, step_forms, document_forms) -> EditedBody:
    """The draft's body with the (valid) forms applied. Steps the forms do not name (gateways, end
    steps) are kept; a step form naming a step the body does not have raises KeyError, which the
    view answers with 400 (a tampered form)."""
    body = copy.deepcopy(body)
    steps = {s["id"]: s for s in body["steps"]}
    removed: list[str] = []
    for form in step_forms:
        data = form.cleaned_data
        step = steps[data["id"]]
        if data.get("remove"):
            removed.append(step["id"])
            continue
        step["title"] = _text(data["title_fa"], data["title_en"])
        step["role"] = data["role"]
        step["deadline_days"] = plain_number(data["deadline_days"])
        for flag in ("discretionary", "signature"):
            if data[flag]:
                step[flag] = True
            else:
                step.pop(flag, None)
    if removed:
        original = {s["id"]: s for s in body["steps"]}
        body["start"] = _redirected(body.get("start", ""), original, set(removed))
        body["steps"] = _without_steps(body["steps"], set(removed))

    documents = {d["id"]: d for d in body.get("documents", [])}
    kept = []
    for form in document_forms:
        data = form.cleaned_data
        if not data or data.get("remove") or (not form.existing and not form.has_content()):
            continue
        doc = copy.deepcopy(documents.get(data["id"], {})) if form.existing else {}
        doc.update(
            {
                "id": data["id"],
                "title": _text(data["title_fa"], data["title_en"]),
                "formats": list(data["formats"]),
                "max_size_mb": plain_number(data["max_size_mb"]),
                "step": data["step"],
            }
        )
        if data["required"]:
            doc.pop("required", None)  # the default
        else:
            doc["required"] = False
        kept.append(doc)
    body["documents"] = kept
    return EditedBody(
        body=body,
        step_ids=[s["id"] for s in body["steps"]],
        document_ids=[d["id"] for d in kept],
        removed_steps=removed,
    )


def _main_target(step: dict) -> str | None:
    if step.get("kind") == "join":
        return step.get("next") or None
    if step.get("kind") == "fork":
        return None
    forward = [o for o in step.get("outcomes", []) if o.get("outcome") in FORWARD_OUTCOMES]
    plain = [o for o in forward if not o.get("when")]
    chosen = (plain or forward or [None])[0]
    return chosen["to"] if chosen else None


def _redirected(target: str, original: dict[str, dict], removed: set[str]) -> str:
    """Where a reference to `target` points once `removed` are gone: `target` itself when kept,
    else the first kept step along the removed steps' main path (`target` unchanged when that path
    leads nowhere, for the validator to report)."""
    seen: set[str] = set()
    current = target
    while current in removed and current not in seen:
        seen.add(current)
        following = _main_target(original.get(current, {}))
        if following is None:
            return target
        current = following
    return current


def _without_steps(steps: list[dict], removed: set[str]) -> list[dict]:
    original = {s["id"]: s for s in steps}
    kept = []
    for step in steps:
        if step["id"] in removed:
            continue
        step = copy.deepcopy(step)
        if "outcomes" in step:
            outcomes, seen = [], set()
            for outcome in step["outcomes"]:
                outcome = {**outcome, "to": _redirected(outcome["to"], original, removed)}
                key = (outcome["outcome"], outcome["to"], outcome.get("when", ""))
                if key not in seen:  # two outcomes that now lead to the same place are one
                    seen.add(key)
                    outcomes.append(outcome)
            step["outcomes"] = outcomes
        if "branches" in step:
            step["branches"] = [_redirected(b, original, removed) for b in step["branches"]]
        if step.get("next"):
            step["next"] = _redirected(step["next"], original, removed)
        kept.append(step)
    return kept


def problems_to_forms(
    problems: list[Problem], edited: EditedBody, step_forms, document_forms
) -> list[Problem]:
    """Attach each problem to the form field it concerns; return those that concern no field on
    the page (shown above the forms)."""
    step_form = {form.cleaned_data.get("id"): form for form in step_forms if form.cleaned_data}
    document_form = {
        form.cleaned_data.get("id"): form
        for form in document_forms
        if form.cleaned_data and form.cleaned_data.get("id")
    }
    left = []
    for problem in problems:
        message = f"{problem.message}" + (f" ({problem.hint})" if problem.hint else "")
        form, name = None, None
        if match := _STEP_PATH.match(problem.path or ""):
            index, attribute = int(match[1]), match[2]
            if index < len(edited.step_ids):
                form = step_form.get(edited.step_ids[index])
                name = STEP_FIELDS.get(attribute or "")
        elif match := _DOCUMENT_PATH.match(problem.path or ""):
            index, attribute = int(match[1]), match[2]
            if index < len(edited.document_ids):
                form = document_form.get(edited.document_ids[index])
                name = DOCUMENT_FIELDS.get(attribute or "")
        if form is None:
            left.append(problem)
        else:
            form.add_error(name, message)
    return left
