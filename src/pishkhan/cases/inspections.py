"""Inspection steps: what an inspector records of a site visit, and reading it back.

    inspection_complete(*, case, step_id, outcome, actor, photos=(), location=None, findings="",
                        now=None) -> CaseEvent
    inspection_records(case) -> list[InspectionRecord]

A visit leaves its photos as `inspection_photo` documents of the step (cases.documents) and its
location and findings in the event that completes the step, as data["evidence"]["inspection"]:

    {"findings": "…", "location": {"lat": 31.89, "lng": 54.35, "accuracy_m": 12.0,
     "source": "device" | "typed"} | null, "photos": [document ids]}

Photos, step and event are written in one transaction: a step that is refused (done by someone
else meanwhile, not yours) keeps no photos, and a photo that is refused completes no step.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from pishkhan.core.text import localize_digits

from .answers import LAT_RANGE, LNG_RANGE
from .documents import INSPECTION_PHOTO, inspection_photos_upload
from .errors import CaseError
from .models import Case, CaseDocument, CaseEvent
from .selectors import case_definition
from .services import case_advance

# An inspection report is read on a phone: a few paragraphs, not a file.
MAX_FINDINGS_CHARS = 5000
# What a phone reports as its accuracy can be kilometres indoors; beyond this it is not a place.
MAX_ACCURACY_M = 100_000
LOCATION_SOURCES = ("device", "typed")


@dataclass(frozen=True)
class InspectionRecord:
    """One completed site visit, as the staff case page shows it."""

    seq: int
    step_id: str
    outcome: str
    at: dt.datetime
    actor: object
    findings: str
    location: dict | None
    photos: list[CaseDocument]


def inspection_complete(
    *,
    case: Case,
    step_id: str,
    outcome: str,
    actor,
    photos=(),
    location: dict | None = None,
    findings: str = "",
    now: dt.datetime | None = None,
) -> CaseEvent:
    """Complete the open inspection step `step_id` of `case` with `outcome`, recording the visit.

    `photos`: uploaded image files taken on site (optional; JPEG or PNG, checked by their content
    as cases.documents.inspection_photos_upload says). `location`: None, or {"lat", "lng"} in
    degrees (inside Iran) with optional "accuracy_m" and "source" ("device" when the browser's
    geolocation filled it, "typed" otherwise). `findings`: what the inspector saw; required.

    Refused with CaseError, nothing stored: a step that is not an inspection (400
    `not_inspection`); no findings, findings too long, a location incomplete or outside Iran (400,
    with field_errors on `findings`, `latitude`, `longitude`); a photo refused (400, on `photos`);
    and every refusal of case_advance (403 not yours, 409 stale or claimed …). A `return`
    outcome is not a visit: use case_advance with its correction request."""
    definition = case_definition(case)
    step = definition.step(step_id) if isinstance(step_id, str) else None
    if step is None or step.kind != "inspection":
        raise CaseError("not_inspection", _("This step is not a site inspection."), 400)
    if outcome == "return":
        raise CaseError("invalid_outcome", _("A return is sent with its correction request, not a visit."))
    errors: dict[str, list[str]] = {}
    findings = (findings or "").replace("\x00", "").strip()
    if not findings:
        errors["findings"] = [_("Write what you found on site.")]
    elif len(findings) > MAX_FINDINGS_CHARS:
        errors["findings"] = [
            _("Keep the findings under %(count)s characters.")
            % {"count": localize_digits(f"{MAX_FINDINGS_CHARS:,}", number=True)}
        ]
    cleaned_location = _clean_location(location, errors)
    if errors:
        raise CaseError("invalid_inspection", _("The inspection report needs correcting."), 400, errors)

    with transaction.atomic():
        documents = inspection_photos_upload(case=case, step_id=step_id, uploads=photos, by=actor, now=now)
        return case_advance(
            case=case,
            step_id=step_id,
            outcome=outcome,
            actor=actor,
            evidence={
                "inspection": {
                    "findings": findings,
                    "location": cleaned_location,
                    "photos": [document.pk for document in documents],
                }
            },
            now=now,
        )


def _clean_location(location, errors: dict) -> dict | None:
    """{"lat", "lng", "accuracy_m", "source"} from what was sent, or None for no location."""
    if location is None or location == {}:
        return None
    if not isinstance(location, dict):
        errors["latitude"] = [_("Give the location as a latitude and a longitude.")]
        return None
    lat, lng = _degrees(location.get("lat")), _degrees(location.get("lng"))
    if location.get("lat") in (None, "") and location.get("lng") in (None, ""):
        return None
    if lat is None:
        errors["latitude"] = [_("Give the latitude too, e.g. 35.6892.")]
    if lng is None:
        errors["longitude"] = [_("Give the longitude too, e.g. 51.3890.")]
    if lat is None or lng is None:
        return None
    if not (LAT_RANGE[0] <= lat <= LAT_RANGE[1] and LNG_RANGE[0] <= lng <= LNG_RANGE[1]):
        # The usual slip is latitude and longitude swapped; say which comes first.
        errors["latitude"] = [
            _("This point is outside Iran. Latitude comes first (about 25 to 40), then longitude (44 to 63).")
        ]
        return None
    accuracy = _degrees(location.get("accuracy_m"))
    if accuracy is not None and not 0 <= accuracy <= MAX_ACCURACY_M:
        accuracy = None
    source = location.get("source")
    return {
        "lat": round(lat, 6),  # about 10 cm: more digits only repeat the phone's noise
        "lng": round(lng, 6),
        "accuracy_m": round(accuracy, 1) if accuracy is not None else None,
        "source": source if source in LOCATION_SOURCES else "typed",
    }


def _degrees(value) -> float | None:
    if isinstance(value, bool) or value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def inspection_records(case: Case) -> list[InspectionRecord]:
    """The site visits recorded on `case`, oldest first, each with its photos (CaseDocument rows,
    the file attached). Visits completed before photos and locations were recorded appear with
    their findings empty."""
    definition = case_definition(case)
    inspection_steps = [step.id for step in definition.steps if step.kind == "inspection"]
    if not inspection_steps:
        return []
    events = (
        case.events.filter(activity="completed", step_id__in=inspection_steps)
        .select_related("actor")
        .order_by("seq")
    )
    photos = {
        document.pk: document
        for document in case.documents.filter(document_type=INSPECTION_PHOTO).select_related("file")
    }
    records = []
    for event in events:
        report = (event.data or {}).get("evidence", {}).get("inspection") or {}
        records.append(
            InspectionRecord(
                seq=event.seq,
                step_id=event.step_id,
                outcome=event.outcome,
                at=event.completed_at,
                actor=event.actor,
                findings=report.get("findings") or "",
                location=report.get("location") or None,
                photos=[photos[pk] for pk in report.get("photos") or [] if pk in photos],
            )
        )
    return records
