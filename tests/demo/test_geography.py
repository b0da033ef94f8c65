"""The demo city's district boundaries: 22 valid polygons that tile the city, and points drawn in
a district that the engine itself places in that district."""

import json
import random
import subprocess
import sys
from itertools import pairwise

import pytest

from pishkhan.accounts.models import District
from pishkhan.cases.services import _district_from, _inside
from pishkhan.catalog.definition import definition_from_dict
from pishkhan.demo.geography import district_boundaries, point_in_district
from pishkhan.demo.seed import seed_districts
from tests.cases.factories import small_process


def ring_of(number):
    return district_boundaries()[number]["coordinates"][0]


def segments_cross(p1, p2, q1, q2) -> bool:
    """Do segments p1p2 and q1q2 cross or touch (other than at a shared end point)?"""

    def side(a, b, c):
        value = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
        return (value > 0) - (value < 0)

    if {tuple(p1), tuple(p2)} & {tuple(q1), tuple(q2)}:
        return False
    d1, d2 = side(q1, q2, p1), side(q1, q2, p2)
    d3, d4 = side(p1, p2, q1), side(p1, p2, q2)
    return d1 * d2 <= 0 and d3 * d4 <= 0 and not (d1 == d2 == d3 == d4 == 0)


def signed_area(ring) -> float:
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in pairwise(ring)) / 2


def test_there_are_22_closed_polygons_inside_the_city_area():
    boundaries = district_boundaries()

    assert sorted(boundaries) == list(range(1, 23))
    for number, geometry in boundaries.items():
        assert geometry["type"] == "Polygon"
        assert len(geometry["coordinates"]) == 1, f"district {number} has a hole"
        ring = geometry["coordinates"][0]
        assert len(ring) >= 5
        assert ring[0] == ring[-1], f"district {number}'s ring is not closed"
        for lng, lat in ring:
            assert 35.55 < lat < 35.84 and 51.09 < lng < 51.63
        # Counter-clockwise, as GeoJSON (RFC 7946) asks of an exterior ring.
        assert signed_area(ring) > 0
    json.dumps(boundaries)  # storable as it is in District.boundary


def test_every_ring_is_simple():
    for number in range(1, 23):
        edges = list(pairwise(ring_of(number)))
        for k, (a, b) in enumerate(edges):
            for c, d in edges[k + 2 :]:
                assert not segments_cross(a, b, c, d), f"district {number}'s border crosses itself"


def test_districts_share_their_borders_and_never_overlap():
    seen = {}
    for number in range(1, 23):
        for a, b in pairwise(ring_of(number)):
            edge = (tuple(a), tuple(b))
            assert edge not in seen, f"districts {seen.get(edge)} and {number} overlap"
            seen[edge] = number
    neighbours = {tuple(sorted((seen[(b, a)], number))) for (a, b), number in seen.items() if (b, a) in seen}
    # Neighbours as in Tehran: the centre touches its ring of districts.
    assert {(6, 7), (6, 11), (10, 11), (12, 14), (16, 20), (18, 21), (2, 5)} <= neighbours

    rng = random.Random(7)
    for _ in range(3000):
        lat, lng = rng.uniform(35.56, 35.83), rng.uniform(51.10, 51.62)
        holders = [n for n, geometry in district_boundaries().items() if _inside(geometry, lat, lng)]
        assert len(holders) <= 1, (lat, lng, holders)


def test_districts_are_numbered_like_tehrans():
    def centre(number):
        ring = ring_of(number)[:-1]
        return sum(p[1] for p in ring) / len(ring), sum(p[0] for p in ring) / len(ring)

    lat = {n: centre(n)[0] for n in range(1, 23)}
    lng = {n: centre(n)[1] for n in range(1, 23)}
    assert lat[1] == max(lat.values())  # 1 in the north
    assert lng[4] == max(lng.values())  # 4 in the east
    assert lat[20] == min(lat.values())  # 20 in the south
    assert lng[22] == min(lng.values())  # 22 in the west
    assert lng[21] < lng[9] < lng[11] < lng[13]


@pytest.mark.parametrize("number", range(1, 23))
def test_points_drawn_in_a_district_are_inside_it_and_no_other(number):
    rng = random.Random(number)
    boundaries = district_boundaries()
    for _ in range(150):
        lat, lng = point_in_district(rng, number)
        assert _inside(boundaries[number], lat, lng)
        assert not any(_inside(boundaries[other], lat, lng) for other in boundaries if other != number)


@pytest.mark.django_db
def test_the_engine_finds_the_district_of_a_sampled_point_from_the_stored_boundaries():
    seed_districts()
    definition = definition_from_dict(
        small_process(
            fields=[
                {"id": "place", "type": "map_point", "label": {"fa": "محل", "en": "Place"}, "required": True}
            ]
        )
    )
    rng = random.Random(1404)
    for number in range(1, 23):
        for _ in range(10):
            lat, lng = point_in_district(rng, number)
            district = _district_from(definition, {"place": {"lat": lat, "lng": lng}}, office=None)
            assert district == District.objects.get(number=number)


def test_the_same_seed_gives_the_same_points_and_shapes_are_the_same_in_a_fresh_process():
    first = [point_in_district(random.Random(5), 12) for _ in range(3)]
    again = [point_in_district(random.Random(5), 12) for _ in range(3)]
    assert first == again

    # A fresh interpreter with another hash seed draws exactly the same boundaries.
    script = (
        "import json; from pishkhan.demo.geography import district_boundaries as b; print(json.dumps(b()))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
    )
    fresh = {int(k): v for k, v in json.loads(result.stdout).items()}
    assert fresh == district_boundaries()


def test_nothing_is_computed_at_import_time():
    script = (
        "from pishkhan.demo import geography as g; "
        "print(g._cells_by_district.cache_info().currsize, g._corners.cache_info().currsize)"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["0", "0"]


def test_many_points_are_cheap():
    rng = random.Random(3)
    points = [point_in_district(rng, 1 + k % 22) for k in range(30_000)]
    assert len(set(points)) > 29_000
