"""Steps that wait for the filing office itself (paper forms, handing a document over at the
counter) show on its dashboard with a button, and only that office's operators can do them."""

import pytest
from django.urls import reverse

from pishkhan.cases.models import CaseEvent
from pishkhan.cases.positions import OFFICE_ROLE
from pishkhan.offices.selectors import office_steps
from tests.cases.factories import make_office, make_operator, publish_definition, small_process
from tests.offices.conftest import file_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def office_world(world):
    """The small process with a step of the office's own after the clerk's review: handing the
    applicant a stamped copy at the counter."""
    data = small_process(code="counter-copy")
    for step in data["steps"]:
        if step["id"] == "review":
            step["outcomes"] = [
                {**o, "to": "hand_over"} if o["outcome"] == "approve" else o for o in step["outcomes"]
            ]
    data["roles"] = [{"code": OFFICE_ROLE, "title": {"fa": "دفتر خدمات الکترونیک", "en": "E-service office"}}]
    data["steps"].append(
        {
            "id": "hand_over",
            "title": {"fa": "تحویل نسخه ممهور در دفتر", "en": "Hand over a stamped copy at the office"},
            "role": OFFICE_ROLE,
            "kind": "review",
            "deadline_days": 2,
            "discretionary": True,
            "outcomes": [{"outcome": "approve", "to": "checks"}],
        }
    )
    world.service = publish_definition(data)
    world.case = file_case(world)
    from pishkhan.cases.services import case_advance

    case_advance(case=world.case, step_id="review", outcome="approve", actor=world.clerk)
    return world


def step_url(case, step_id="hand_over"):
    return reverse("offices:step_done", args=[case.tracking_code, step_id])


def test_the_dashboard_lists_the_offices_own_step_and_its_operator_completes_it(client, office_world):
    world = office_world
    client.force_login(world.operator)
    page = client.get(reverse("offices:dashboard")).content.decode()
    assert "تحویل نسخه ممهور در دفتر" in page and step_url(world.case) in page

    response = client.post(step_url(world.case), {"outcome": "approve"})

    assert response.status_code == 302
    event = CaseEvent.objects.get(case=world.case, step_id="hand_over")
    assert (event.activity, event.actor, event.office) == ("completed", world.operator, world.office)
    assert office_steps(world.office, now=event.completed_at) == []


def test_another_office_cannot_see_or_do_the_step_and_nothing_changes(client, office_world):
    world = office_world
    other = make_operator(office=make_office(district=world.district))
    client.force_login(other)
    assert step_url(world.case) not in client.get(reverse("offices:dashboard")).content.decode()
    assert client.post(step_url(world.case), {"outcome": "approve"}).status_code == 404
    assert world.case.positions.filter(step_id="hand_over").exists()


def test_a_bad_outcome_or_a_step_already_done_is_refused_and_changes_nothing(client, office_world):
    world = office_world
    client.force_login(world.operator)
    assert client.post(step_url(world.case), {"outcome": "reject"}).status_code == 400
    assert client.post(step_url(world.case), {"outcome": "approve"}).status_code == 302
    seq = world.case.events.count()
    assert client.post(step_url(world.case), {"outcome": "approve"}).status_code == 409
    assert client.post(step_url(world.case, "review"), {"outcome": "approve"}).status_code in (403, 409)
    assert world.case.events.count() == seq


def test_citizens_and_staff_cannot_post_to_an_office_step(client, office_world):
    world = office_world
    client.force_login(world.clerk)
    assert client.post(step_url(world.case), {"outcome": "approve"}).status_code == 403
    assert world.case.positions.filter(step_id="hand_over").exists()
