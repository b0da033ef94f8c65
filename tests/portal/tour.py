"""The pages a person meets most, with the data behind them, for the checks that look at every
page the same way: their weight (tests/portal/test_page_weight.py) and their accessibility in a
real browser (tests/e2e/test_accessibility.py).

The city is the demo's: its 22 districts with their boundaries (the map point and the staff map
draw them) and the whole shipped process bank (the catalogue lists all of it); the pages of one
service are the excavation permit's (a map point and a Jalali date, so its form loads Leaflet and
the date picker). A citizen with a case of it, returned to her for a missing document; a clerk
whose queue holds a dozen more such cases; and an e-service office whose operator filed some.

    tour = tour_build()
    for page in tour.pages: ...          # TourPage(name, url, user, audience, has_map, fetches)
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils import timezone

from pishkhan.accounts.models import District, User
from pishkhan.cases.models import Alert, Position
from pishkhan.cases.services import case_advance, case_submit
from pishkhan.catalog.bank import bank_load
from pishkhan.catalog.models import Service
from pishkhan.demo.geography import point_in_district
from pishkhan.demo.seed import seed_districts
from tests.cases.factories import make_citizen, make_office, make_operator, make_staff

# How many cases wait in the clerk's queue: a busy morning's worth, so the inbox, the map and the
# office dashboard are measured with rows in them, not empty.
QUEUE_LENGTH = 12
# Every role the excavation permit's steps name, held by the one clerk of the tour.
EXCAVATION_ROLES = [
    "eservice_office",
    "excavation_coordinator",
    "traffic_expert",
    "green_space_expert",
    "utilities_liaison",
    "inspector",
    "head_urban_services",
    "revenue_clerk",
    "services_deputy",
    "restoration_contractor",
    "clerk",
]
CITIZEN, STAFF = "citizen", "staff"


@dataclass(frozen=True)
class TourPage:
    """One page of the tour: `user` None is a visitor who has not signed in; `fetches` are the
    same-site URLs the page's own scripts ask for as it loads (the staff map's data)."""

    name: str
    url: str
    user: User | None
    audience: str  # CITIZEN, or STAFF (the municipality's and the offices'): also checked at desktop width
    has_map: bool = False
    fetches: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Tour:
    pages: list[TourPage]
    citizen: User
    case_code: str  # the citizen's case, returned to her for a missing document
    clerk: User
    operator: User

    def page(self, name: str) -> TourPage:
        return next(page for page in self.pages if page.name == name)


def excavation_answers(*, number: int, district: District, applicant: User) -> dict:
    """Valid answers to the excavation permit's form (the `number`th of the tour), the route
    starting inside `district`."""
    lat, lng = point_in_district(random.Random(number), district.number)
    return {
        "applicant_type": "water",
        "company_name": "شرکت آب و فاضلاب",
        "project_title": f"اصلاح شبکه آب، مرحله {number}",
        "street_name": "خیابان امام",
        "route_start": {"lat": lat, "lng": lng},
        "length_m": 20 + number,
        "width_m": 0.5,
        "depth_m": 1,
        "surface": "asphalt",
        "start_date": "1406/01/20",
        "duration_days": 10,
        "restoration_by": "municipality",
        "contractor_name": "پیمانکار نمونه",
        "applicant_mobile": applicant.mobile,
    }


def tour_build() -> Tour:
    """Make the city, the people and the cases, and return the pages to visit."""
    seed_districts()
    districts = list(District.objects.order_by("number"))
    # The clerk holds the first step of every case: the e-service office's check of the request.
    clerk = make_staff(role=EXCAVATION_ROLES, district=None, first_name="کاوه", last_name="کارشناس")
    report = bank_load()
    assert not report.problems, report.problems
    service = Service.objects.get(code="excavation-permit")
    office = make_office(district=districts[0])
    operator = make_operator(office=office)
    citizen = make_citizen(first_name="مریم", last_name="کریمی")
    cases = []
    for number in range(QUEUE_LENGTH):
        applicant = citizen if number == 0 else make_citizen()
        district = districts[number % len(districts)]
        by_office = number % 3 == 2
        cases.append(
            case_submit(
                service=service,
                applicant=applicant,
                filed_by=operator if by_office else applicant,
                answers=excavation_answers(number=number, district=district, applicant=applicant),
                channel="office" if by_office else "online",
                district=district,
                office=office if by_office else None,
            )
        )
    # The citizen's case is back with her: the route map is missing (the page's correction form).
    case_advance(
        case=cases[0],
        step_id="file_request",
        outcome="return",
        actor=clerk,
        request={"missing": ["route_map"], "message": "نقشه مسیر حفاری پیوست نشده است.", "due_days": 5},
    )
    # Two are late and one is due soon, as the deadline sweep would mark them: the badges and the
    # staff map's overdue markers are drawn too.
    now = timezone.now()
    for case, due_in, alert in (
        (cases[2], dt.timedelta(days=-2), Alert.OVERDUE),
        (cases[5], dt.timedelta(days=-1), Alert.OVERDUE),
        (cases[3], dt.timedelta(hours=5), Alert.SOON),
    ):
        Position.objects.filter(case=case, step_id="file_request").update(due_at=now + due_in, alert=alert)
    code, waiting = cases[0].tracking_code, cases[1].tracking_code  # the second waits for the clerk
    pages = [
        TourPage("home", reverse("core:home"), None, CITIZEN),
        TourPage("catalogue", reverse("portal:service_list"), None, CITIZEN),
        TourPage("service", reverse("portal:service_detail", args=[service.code]), None, CITIZEN),
        TourPage("apply", reverse("portal:apply", args=[service.code]), citizen, CITIZEN, has_map=True),
        TourPage("my case", reverse("portal:my_case", args=[code]), citizen, CITIZEN),
        TourPage("tracking", reverse("track"), None, CITIZEN),
        TourPage("inbox", reverse("desk:inbox"), clerk, STAFF),
        TourPage("staff case", reverse("desk:inbox_case", args=[waiting]), clerk, STAFF),
        TourPage(
            "staff map", reverse("desk:map"), clerk, STAFF, has_map=True, fetches=(reverse("desk:map_data"),)
        ),
        TourPage("office dashboard", reverse("offices:dashboard"), operator, STAFF),
        TourPage("counter", reverse("portal:counter"), operator, STAFF),
    ]
    return Tour(pages=pages, citizen=citizen, case_code=code, clerk=clerk, operator=operator)
