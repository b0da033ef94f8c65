"""Made-up but plausible boundaries for the demo city's 22 districts, numbered like Tehran's (1 in
the north-east, 4 to the east, 20 in the south, 21 and 22 in the west) over a Tehran-sized area
(latitude 35.56–35.83, longitude 51.10–51.62). They are not Tehran's real boundaries: a city
loads its own into accounts.District.boundary.

    district_boundaries() -> {number: GeoJSON Polygon}
    point_in_district(rng, number) -> (lat, lng) strictly inside that district

How they are drawn: the area is cut into a grid of small cells whose corners are nudged a little
(so no edge is perfectly straight); each cell goes to the district whose centre is nearest, by a
distance that is bent by a few gentle waves (so borders wander) and weighted (so the outer
districts are larger, as in a real city); cells far from every centre lie outside the city. A
district is the union of its cells: neighbours share every border vertex exactly, so the polygons
tile the city without gaps or overlaps, and a point inside one cell of a district is inside that
district's polygon and no other's.

Everything is computed once, on first use, from fixed numbers: the same boundaries on every
machine and every run. Nothing is computed at import time."""

from __future__ import annotations

import functools
import math
import random
from collections import Counter, deque

LAT_MIN, LAT_MAX = 35.56, 35.83
LNG_MIN, LNG_MAX = 51.10, 51.62
COLUMNS, ROWS = 70, 45
# How far a grid corner may move, as a share of a cell. Below a quarter every nudged cell stays
# convex, which point_in_district relies on.
JITTER = 0.2
# The seed of the corner nudges and of the waves: change it and every boundary changes.
SHAPE_SEED = 1404
# Keep a sampled point this far (a share of a cell) from its cell's edges, so rounding can never
# move it onto a border.
MARGIN = 0.05
OUTSIDE = 0

# Where each district's centre lies (longitude, latitude) and how far it reaches, in km: the
# central districts are small and dense, the outer ones large (21, 22, 4, 5, 18, 20).
CENTRES: dict[int, tuple[float, float, float]] = {
    1: (51.465, 35.797, 5.2),
    2: (51.368, 35.768, 4.6),
    3: (51.428, 35.762, 3.8),
    4: (51.553, 35.748, 6.0),
    5: (51.290, 35.757, 5.4),
    6: (51.402, 35.722, 3.0),
    7: (51.447, 35.716, 3.0),
    8: (51.497, 35.722, 3.4),
    9: (51.305, 35.683, 3.6),
    10: (51.362, 35.685, 2.8),
    11: (51.400, 35.683, 2.8),
    12: (51.440, 35.676, 3.0),
    13: (51.512, 35.692, 3.6),
    14: (51.478, 35.663, 3.4),
    15: (51.486, 35.617, 5.2),
    16: (51.412, 35.636, 3.4),
    17: (51.360, 35.652, 2.8),
    18: (51.268, 35.643, 5.4),
    19: (51.350, 35.617, 3.6),
    20: (51.432, 35.588, 5.6),
    21: (51.212, 35.700, 5.6),
    22: (51.168, 35.758, 6.0),
}
# A cell belongs to the city when some centre is within its reach times this.
CITY_REACH = 1.3

_KM_PER_LAT = 111.0
_KM_PER_LNG = 111.0 * math.cos(math.radians((LAT_MIN + LAT_MAX) / 2))


@functools.cache
def district_boundaries() -> dict[int, dict]:
    """Every district's boundary as a GeoJSON Polygon: {"type": "Polygon", "coordinates":
    [[[lng, lat], …, first point again]]}, one exterior ring, counter-clockwise, no holes.
    Computed on first use and shared: copy before changing it."""
    return {
        number: {"type": "Polygon", "coordinates": [_ring(cells, _corners())]}
        for number, cells in sorted(_cells_by_district().items())
    }


def point_in_district(rng: random.Random, number: int) -> tuple[float, float]:
    """A point (lat, lng) strictly inside district `number`'s boundary, drawn with `rng`: one of
    the district's cells at random, then a point well inside that cell. Cells are about the same
    size, so points spread evenly over the district. KeyError for an unknown number."""
    quads = _quads()[number]
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = quads[rng.randrange(len(quads))]
    u = rng.uniform(MARGIN, 1 - MARGIN)
    v = rng.uniform(MARGIN, 1 - MARGIN)
    # Bilinear: (u, v) in the unit square onto the convex cell, interior onto interior.
    lng = (1 - u) * (1 - v) * x0 + u * (1 - v) * x1 + u * v * x2 + (1 - u) * v * x3
    lat = (1 - u) * (1 - v) * y0 + u * (1 - v) * y1 + u * v * y2 + (1 - u) * v * y3
    return round(lat, 6), round(lng, 6)


# --- how the shapes are made ---------------------------------------------------------------------


@functools.cache
def _corners() -> tuple[tuple[tuple[float, float], ...], ...]:
    """The nudged grid corners: _corners()[i][j] is (lng, lat) of corner column i, row j (row 0
    in the south), rounded to 6 decimals as the stored boundary is."""
    rng = random.Random(SHAPE_SEED)  # noqa: S311 - shapes, not secrets
    width, height = (LNG_MAX - LNG_MIN) / COLUMNS, (LAT_MAX - LAT_MIN) / ROWS
    columns = []
    for i in range(COLUMNS + 1):
        column = []
        for j in range(ROWS + 1):
            dx, dy = rng.uniform(-JITTER, JITTER), rng.uniform(-JITTER, JITTER)
            column.append((round(LNG_MIN + (i + dx) * width, 6), round(LAT_MIN + (j + dy) * height, 6)))
        columns.append(tuple(column))
    return tuple(columns)


def _waves():
    """A smooth, small displacement (in km) that makes the borders wander instead of running
    straight between two centres."""
    rng = random.Random(SHAPE_SEED + 1)  # noqa: S311 - shapes, not secrets
    terms = [
        (rng.uniform(0.3, 0.7), rng.uniform(0, 2 * math.pi), rng.uniform(-1, 1), rng.uniform(-1, 1))
        for _ in range(6)
    ]

    def displace(x: float, y: float) -> tuple[float, float]:
        dx = dy = 0.0
        for frequency, phase, a, b in terms:
            dx += 0.35 * math.sin(frequency * (a * x + b * y) + phase)
            dy += 0.35 * math.cos(frequency * (b * x - a * y) + phase * 1.7)
        return x + dx, y + dy

    return displace


def _km(lng: float, lat: float) -> tuple[float, float]:
    return (lng - LNG_MIN) * _KM_PER_LNG, (lat - LAT_MIN) * _KM_PER_LAT


def _first_labels() -> list[list[int]]:
    """labels[i][j]: the district of cell (i, j) before tidying, OUTSIDE for none."""
    displace = _waves()
    centres = {number: (*_km(lng, lat), reach) for number, (lng, lat, reach) in CENTRES.items()}
    width, height = (LNG_MAX - LNG_MIN) / COLUMNS, (LAT_MAX - LAT_MIN) / ROWS
    labels = []
    for i in range(COLUMNS):
        column = []
        for j in range(ROWS):
            x, y = displace(*_km(LNG_MIN + (i + 0.5) * width, LAT_MIN + (j + 0.5) * height))
            best, best_power, reach_share = OUTSIDE, math.inf, math.inf
            for number, (cx, cy, reach) in centres.items():
                squared = (x - cx) ** 2 + (y - cy) ** 2
                # A power distance: borders stay straight-ish, and a far-reaching district
                # pushes its borders away from its centre.
                power = squared - reach**2
                if power < best_power:
                    best, best_power = number, power
                reach_share = min(reach_share, math.sqrt(squared) / reach)
            column.append(best if reach_share <= CITY_REACH else OUTSIDE)
        labels.append(column)
    return labels


def _neighbours(i: int, j: int):
    for ni, nj in ((i + 1, j), (i - 1, j), (i, j + 1), (i, j - 1)):
        if 0 <= ni < COLUMNS and 0 <= nj < ROWS:
            yield ni, nj


def _components(labels, number: int) -> list[set[tuple[int, int]]]:
    """The edge-connected groups of cells labelled `number`."""
    seen: set[tuple[int, int]] = set()
    groups = []
    for i in range(COLUMNS):
        for j in range(ROWS):
            if labels[i][j] != number or (i, j) in seen:
                continue
            group = {(i, j)}
            queue = deque([(i, j)])
            while queue:
                cell = queue.popleft()
                for other in _neighbours(*cell):
                    if labels[other[0]][other[1]] == number and other not in group:
                        group.add(other)
                        queue.append(other)
            seen |= group
            groups.append(group)
    return groups


def _commonest_neighbour(labels, cells: set[tuple[int, int]], number: int) -> int:
    around = Counter(
        labels[ni][nj]
        for cell in cells
        for ni, nj in _neighbours(*cell)
        if (ni, nj) not in cells and labels[ni][nj] != number
    )
    districts = [(count, label) for label, count in around.items() if label != OUTSIDE]
    if districts:
        return max(districts)[1]
    return OUTSIDE


def _tidy(labels) -> bool:
    """One pass making every district one piece without holes or pinches; True if it changed
    anything. A pinch is two cells of a district meeting only at a corner, which would make its
    boundary touch itself."""
    changed = False
    for number in [*CENTRES, OUTSIDE]:
        groups = _components(labels, number)
        if number == OUTSIDE:
            # Outside cells enclosed by the city become city.
            stray = [g for g in groups if not any(i in (0, COLUMNS - 1) or j in (0, ROWS - 1) for i, j in g)]
        else:
            stray = sorted(groups, key=len)[:-1]  # all but the largest piece
        for group in stray:
            new = _commonest_neighbour(labels, group, number)
            if new == number:
                continue
            for i, j in group:
                labels[i][j] = new
            changed = True
    for i in range(COLUMNS - 1):
        for j in range(ROWS - 1):
            a, b = labels[i][j], labels[i + 1][j]
            c, d = labels[i][j + 1], labels[i + 1][j + 1]
            if a != OUTSIDE and a == d and b != a and c != a:
                labels[i + 1][j] = a
                changed = True
            elif b != OUTSIDE and b == c and a != b and d != b:
                labels[i][j] = b
                changed = True
    return changed


@functools.cache
def _cells_by_district() -> dict[int, frozenset[tuple[int, int]]]:
    labels = _first_labels()
    for _round in range(50):
        if not _tidy(labels):
            break
    else:  # pragma: no cover - the fixed numbers above settle in a few rounds
        raise RuntimeError("the demo districts did not settle; change SHAPE_SEED or CENTRES")
    cells: dict[int, set[tuple[int, int]]] = {number: set() for number in CENTRES}
    for i in range(COLUMNS):
        for j in range(ROWS):
            if labels[i][j] != OUTSIDE:
                cells[labels[i][j]].add((i, j))
    return {number: frozenset(group) for number, group in cells.items()}


def _ring(cells: frozenset[tuple[int, int]], corners) -> list[list[float]]:
    """The outline of a set of cells (one piece, no holes, no pinches) as a closed ring of
    [lng, lat], counter-clockwise. Each cell's edges run counter-clockwise; the edges with no
    cell of the set on the other side, joined head to tail, go once round the outside."""
    following: dict[tuple[int, int], tuple[int, int]] = {}
    for i, j in cells:
        if (i, j - 1) not in cells:
            following[(i, j)] = (i + 1, j)
        if (i + 1, j) not in cells:
            following[(i + 1, j)] = (i + 1, j + 1)
        if (i, j + 1) not in cells:
            following[(i + 1, j + 1)] = (i, j + 1)
        if (i - 1, j) not in cells:
            following[(i, j + 1)] = (i, j)
    start = min(following)
    ring = [start]
    corner = following[start]
    while corner != start:
        ring.append(corner)
        corner = following[corner]
    if len(ring) != len(following):  # pragma: no cover - _tidy leaves no holes or pinches
        raise RuntimeError("a demo district has a hole or a pinch")
    # Every nudged corner stays, even where the grid runs straight on: the outline must be exactly
    # the union of the nudged cells for point_in_district's promise to hold.
    points = [list(corners[i][j]) for i, j in ring]
    return [*points, points[0]]


@functools.cache
def _quads() -> dict[int, tuple[tuple[tuple[float, float], ...], ...]]:
    """Each district's cells as their four nudged corners, counter-clockwise from south-west."""
    corners = _corners()
    return {
        number: tuple(
            (corners[i][j], corners[i + 1][j], corners[i + 1][j + 1], corners[i][j + 1])
            for i, j in sorted(cells)
        )
        for number, cells in _cells_by_district().items()
    }
