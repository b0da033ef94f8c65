"""The staff map: the districts with their open and overdue cases, and those cases as markers.

The page works without JavaScript: it is a table of districts with their counts (which is also
the accessible way to read the map). With JavaScript, desk/map.js draws Leaflet's map above the
table from `map_data` (JSON). Base tiles come from PISHKHAN_MAP_TILES when the city sets one;
otherwise the districts are drawn on a plain background and the page asks no outside server.

What the map shows is what desk.selectors reads through cases_for: only the cases the signed-in
staff member may see, and no personal data of any applicant."""

from __future__ import annotations

import math

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from .access import header_links, staff_required
from .selectors import map_districts, map_points


def _labels() -> dict:
    """The words map.js shows, in the page's language."""
    return {
        "open": _("Open cases"),
        "overdue": _("Overdue"),
        "on_time": _("On time"),
        "service": _("Service"),
        "step": _("Step"),
        "district": _("District"),
        "open_case": _("Click to open the case."),
        "group": _("%(count)s open cases here, %(overdue)s of them overdue. Click to zoom in."),
        "info_hint": _("Point at a district to see its counts."),
        "map_label": _("Map of the districts and the open cases"),
        "failed": _("The cases could not be loaded onto the map. The table below has the counts."),
        "grouped": _("%(count)s cases in view: zoom in to see them one by one."),
        "nothing": _("None of the open cases you may see has a place on the map."),
    }


@staff_required
@require_safe
def case_map(request):
    """The map page: the table of districts with open and overdue counts, and the map above it."""
    districts = map_districts(request.user)
    return render(
        request,
        "desk/map.html",
        {
            "districts": districts,
            "total_open": sum(row["open"] for row in districts),
            "total_overdue": sum(row["overdue"] for row in districts),
            "map_tiles": settings.MAP_TILES,
            "map_attribution": settings.MAP_ATTRIBUTION,
            "labels": _labels(),
            **header_links(request.user),
        },
    )


def _bbox(text: str):
    """`south,west,north,east` in degrees, or None for an empty text; ValueError when it is not
    four numbers with south below north and west of east. Clamped to the world."""
    if not text:
        return None
    parts = text.split(",")
    if len(parts) != 4:
        raise ValueError(text)
    south, west, north, east = (float(part) for part in parts)
    if not all(math.isfinite(value) for value in (south, west, north, east)):
        raise ValueError(text)
    if south > north or west > east:
        raise ValueError(text)
    return max(south, -90.0), max(west, -180.0), min(north, 90.0), min(east, 180.0)


@staff_required
@require_safe
def case_map_data(request):
    """JSON for map.js: {"districts": GeoJSON FeatureCollection (properties: number, code, name,
    open, overdue) — left out with `districts=0`, "points": desk.selectors.map_points}.
    `bbox=south,west,north,east` narrows the points to the part of the map in view."""
    try:
        bbox = _bbox(request.GET.get("bbox", "").strip())
    except ValueError:
        return JsonResponse(
            {
                "error": _(
                    "The map area is not understood: give bbox as four numbers, "
                    "south,west,north,east (for example 35.6,51.2,35.8,51.5)."
                )
            },
            status=400,
        )
    data = {"points": map_points(request.user, bbox=bbox)}
    if request.GET.get("districts") != "0":
        data["districts"] = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": row["geometry"],
                    "properties": {key: row[key] for key in ("number", "code", "name", "open", "overdue")},
                }
                for row in map_districts(request.user)
                if row["geometry"] is not None
            ],
        }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "private, no-store"
    return response
