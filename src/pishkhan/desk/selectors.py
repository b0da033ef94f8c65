"""Reads for the staff map: each district with the open and overdue cases the viewer may see, and
those cases as points on the map — or, when there are more than a map can show, as groups of
nearby cases. Every read starts from cases.selectors.cases_for, the one ownership rule: the map
never shows a case its viewer could not open.

    map_districts(user, *, now=None) -> list[dict]
    map_points(user, *, bbox=None, now=None, limit=None) -> dict

Open: in progress or waiting for the applicant (not approved, rejected or withdrawn). Overdue: a
step waiting for staff (queued or being worked on) is past its due time — the rule the team
page uses. A case's place is its map-point answer (a top-level `map_point` field of its form);
a case without one counts in its district but has no point.

Privacy (DOMAIN.md §7): a point carries the tracking code, the service, the district, the step,
whether it is overdue and its place — never the applicant's name, national ID or mobile."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language

from pishkhan.accounts.models import District
from pishkhan.accounts.selectors import district_name
from pishkhan.cases.models import Case, CaseStatus, Position, PositionState
from pishkhan.cases.selectors import case_definition, cases_for

# Cases a map shows one by one; beyond this, nearby cases are drawn as one numbered group. A few
# hundred markers keep a phone's browser responsive.
MAP_POINTS_MAX = 300
# Groups are the squares of a grid over the area asked for, GROUP_GRID squares along its longer
# side: fine enough to tell the districts apart at city scale, coarse enough to stay well under
# MAP_POINTS_MAX markers.
GROUP_GRID = 12
OPEN_STATUSES = (CaseStatus.OPEN, CaseStatus.WITH_CITIZEN)
STAFF_STATES = (PositionState.QUEUED, PositionState.CLAIMED)


def _english() -> bool:
    return (get_language() or "fa").startswith("en")


def open_cases_for(user, *, now: dt.datetime | None = None) -> QuerySet[Case]:
    """The open cases `user` may see (cases_for), each annotated with `is_overdue`."""
    now = now or timezone.now()
    overdue_step = Position.objects.filter(case=OuterRef("pk"), state__in=STAFF_STATES, due_at__lt=now)
    return cases_for(user).filter(status__in=OPEN_STATUSES).annotate(is_overdue=Exists(overdue_step))


def district_geometry(district: District) -> dict | None:
    """The district's boundary as a GeoJSON geometry (Polygon or MultiPolygon), or None when it
    has none or it is not one of those (a Feature is unwrapped, as the engine does)."""
    boundary = district.boundary
    if isinstance(boundary, dict) and boundary.get("type") == "Feature":
        boundary = boundary.get("geometry")
    if isinstance(boundary, dict) and boundary.get("type") in ("Polygon", "MultiPolygon"):
        return boundary
    return None


def map_districts(user, *, now: dt.datetime | None = None) -> list[dict]:
    """Every district, by number, with what `user` may see of it:
    [{"number", "code", "name", "open", "overdue", "geometry"}, …] (geometry as
    district_geometry)."""
    counts = {
        row["district_id"]: row
        for row in open_cases_for(user, now=now)
        .order_by()
        .values("district_id")
        .annotate(open=Count("pk"), overdue=Count("pk", filter=Q(is_overdue=True)))
    }
    rows = []
    for district in District.objects.order_by("number"):
        count = counts.get(district.pk, {})
        rows.append(
            {
                "number": district.number,
                "code": district.code,
                "name": district_name(district),
                "open": count.get("open", 0),
                "overdue": count.get("overdue", 0),
                "geometry": district_geometry(district),
            }
        )
    return rows


def _point_of(answers, field_ids: list[str]) -> tuple[float, float] | None:
    """The first usable map-point answer among `field_ids`, as (lat, lng)."""
    if not isinstance(answers, dict):
        return None
    for field_id in field_ids:
        value = answers.get(field_id)
        if not isinstance(value, dict):
            continue
        lat, lng = value.get("lat"), value.get("lng")
        if (
            isinstance(lat, int | float)
            and isinstance(lng, int | float)
            and not isinstance(lat, bool)
            and not isinstance(lng, bool)
            and math.isfinite(lat)
            and math.isfinite(lng)
        ):
            return float(lat), float(lng)
    return None


def _inside_bbox(lat: float, lng: float, bbox) -> bool:
    if bbox is None:
        return True
    south, west, north, east = bbox
    return south <= lat <= north and west <= lng <= east


def map_points(
    user,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    now: dt.datetime | None = None,
    limit: int | None = None,
) -> dict:
    """The open cases `user` may see that have a place, within `bbox` (south, west, north, east;
    None: anywhere):

        {"located": n, "grouped": bool,
         "cases": [{"tracking_code", "service", "district", "step", "overdue", "lat", "lng",
                    "url"}, …],
         "groups": [{"lat", "lng", "count", "overdue", "bounds": [[s, w], [n, e]]}, …]}

    Up to `limit` cases (default MAP_POINTS_MAX) come one by one. Beyond it (`grouped`), the
    area is cut into a grid, GROUP_GRID squares along its longer side: the cases of a square
    become one group at their mean place, with the bounds of their points for zooming in, and a
    square holding a single case gives that case."""
    limit = MAP_POINTS_MAX if limit is None else limit
    cases = open_cases_for(user, now=now)
    # The map-point fields of each definition in use: few versions, many cases.
    point_fields: dict[tuple, list[str]] = {}
    definitions = {}
    for version_id, variant_id in cases.order_by().values_list("version_id", "variant_id").distinct():
        sample = cases.filter(version_id=version_id, variant_id=variant_id).only(
            "pk", "version_id", "variant_id"
        )
        definition = case_definition(sample.first())
        fields = [field.id for field in definition.fields if field.type == "map_point"]
        if fields:
            point_fields[(version_id, variant_id)] = fields
            definitions[(version_id, variant_id)] = definition
    if not point_fields:
        return {"located": 0, "grouped": False, "cases": [], "groups": []}

    with_fields = Q(pk__in=[])
    for version_id, variant_id in point_fields:
        with_fields |= Q(version_id=version_id, variant_id=variant_id)
    located = []
    for pk, code, district_id, version_id, variant_id, answers, overdue in (
        cases.filter(with_fields)
        .order_by("-is_overdue", "submitted_at", "pk")
        .values_list(
            "pk", "tracking_code", "district_id", "version_id", "variant_id", "answers", "is_overdue"
        )
        .iterator(chunk_size=2000)
    ):
        point = _point_of(answers, point_fields[(version_id, variant_id)])
        if point is not None and _inside_bbox(*point, bbox):
            located.append((pk, code, district_id, (version_id, variant_id), overdue, point))

    if len(located) <= limit:
        return {
            "located": len(located),
            "grouped": False,
            "cases": _case_rows(located, definitions),
            "groups": [],
        }
    squares = _squares(located, bbox)
    # A square holding one case shows that case itself: a group of one only costs a click.
    singles = [rows[0] for rows in squares if len(rows) == 1]
    return {
        "located": len(located),
        "grouped": True,
        "cases": _case_rows(singles, definitions),
        "groups": [_group(rows) for rows in squares if len(rows) > 1],
    }


def _case_rows(located: list[tuple], definitions: dict) -> list[dict]:
    """What a marker shows of each located case (see map_points)."""
    steps = defaultdict(list)
    for case_id, step_id in (
        Position.objects.filter(case_id__in=[row[0] for row in located])
        .exclude(state=PositionState.WAITING_JOIN)
        .order_by("assigned_at", "pk")
        .values_list("case_id", "step_id")
    ):
        steps[case_id].append(step_id)
    names = {district.pk: district_name(district) for district in District.objects.all()}
    language = "en" if _english() else "fa"
    rows = []
    for pk, code, district_id, key, overdue, (lat, lng) in located:
        definition = definitions[key]
        titles = []
        for step_id in steps[pk]:
            step = definition.step(step_id)
            titles.append(step.title.get(language) if step is not None and step.title else step_id)
        rows.append(
            {
                "tracking_code": code,
                "service": definition.title.get(language),
                "district": names.get(district_id, ""),
                "step": ("، " if language == "fa" else ", ").join(titles),
                "overdue": bool(overdue),
                "lat": lat,
                "lng": lng,
                "url": reverse("desk:inbox_case", kwargs={"tracking_code": code}),
            }
        )
    return rows


def _squares(located: list[tuple], bbox) -> list[list[tuple]]:
    """The located cases sorted into the squares of a grid over `bbox` (or over their own
    extent), GROUP_GRID squares along the longer side; the non-empty squares, in grid order."""
    lats = [row[5][0] for row in located]
    lngs = [row[5][1] for row in located]
    south, west, north, east = bbox if bbox is not None else (min(lats), min(lngs), max(lats), max(lngs))
    # Squares on the ground: a degree of longitude is shorter than one of latitude by cos(lat).
    shrink = max(math.cos(math.radians((south + north) / 2)), 0.01)
    side = max(north - south, (east - west) * shrink) / GROUP_GRID or 1.0
    height, width = side, side / shrink
    squares: dict[tuple[int, int], list] = defaultdict(list)
    for row in located:
        lat, lng = row[5]
        squares[(int((lat - south) / height), int((lng - west) / width))].append(row)
    return [squares[key] for key in sorted(squares)]


def _group(rows: list[tuple]) -> dict:
    lats = [row[5][0] for row in rows]
    lngs = [row[5][1] for row in rows]
    return {
        "lat": round(sum(lats) / len(lats), 6),
        "lng": round(sum(lngs) / len(lngs), 6),
        "count": len(rows),
        "overdue": sum(1 for row in rows if row[4]),
        "bounds": [[min(lats), min(lngs)], [max(lats), max(lngs)]],
    }
