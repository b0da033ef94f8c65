"""Reading the process bank at the desk: metrics, versions and variants side by side, comparisons."""

import pytest
from django.urls import reverse

from pishkhan.catalog.services import variant_set, version_import
from tests.portal.factories import KIOSK_V2, kiosk_source, make_district

from .helpers import text_of

pytestmark = pytest.mark.django_db


def simpler_draft(owner):
    """Version 2 of the kiosk permit, a draft: no beautification review, no deputy's signature."""
    return version_import(source=KIOSK_V2.read_text(encoding="utf-8"), filename=KIOSK_V2.name, by=owner)


def test_the_process_bank_lists_every_service_with_its_reform_metrics(client, english, clerk, kiosk, owner):
    version_import(
        source=kiosk_source(
            **{"code: kiosk-permit": "code: kiosk-renewal", "en: Kiosk permit}": "en: Kiosk renewal}"}
        ),
        filename="kiosk-renewal.yaml",
        by=owner,
    )
    client.force_login(clerk)

    response = client.get(reverse("desk:process_list"))

    assert response.status_code == 200
    text = text_of(response)
    # Steps 6, discretionary 2, signatures 1, hand-offs, documents 2, longest path 2+5+4+5+0 = 16.
    assert "Kiosk permit kiosk-permit · v1 6 2 1" in text
    assert "2 16" in text
    # A service with only a draft is listed too, marked as a draft.
    assert "Kiosk renewal kiosk-renewal · v1 Draft" in text


def test_the_process_bank_sorts_by_a_metric(client, english, clerk, kiosk, owner):
    version_import(
        source=kiosk_source(
            **{"code: kiosk-permit": "code: kiosk-renewal", "en: Kiosk permit}": "en: Kiosk renewal}"}
        ),
        filename="kiosk-renewal.yaml",
        by=owner,
    )
    simpler = simpler_draft(owner)
    assert simpler.number == 2
    client.force_login(clerk)

    by_title = text_of(client.get(reverse("desk:process_list"), {"sort": "title"}))
    descending = client.get(reverse("desk:process_list"), {"sort": "steps", "order": "desc"})

    assert by_title.index("Kiosk permit") < by_title.index("Kiosk renewal")
    assert 'aria-sort="descending"' in descending.content.decode()
    # A made-up sort key is ignored rather than refused: sorting is a convenience, not input.
    assert client.get(reverse("desk:process_list"), {"sort": "__class__"}).status_code == 200


def test_versions_and_district_variants_are_side_by_side_with_deltas_against_the_published_one(
    client, english, clerk, kiosk, owner
):
    simpler_draft(owner)
    district = make_district("d07", 7)
    variant_set(
        version=kiosk,
        district=district,
        patch={"change_steps": {"inspect": {"deadline_days": 9}}},
        note="District 7 inspects slowly",
        by=owner,
    )
    client.force_login(clerk)

    response = client.get(reverse("desk:process_detail", args=["kiosk-permit"]))

    assert response.status_code == 200
    html = response.content.decode()
    text = text_of(response)
    assert "Version 1 Published Version 2 Draft Version 1 in District 7 departs 16.7%" in text
    # Steps: 6 published, 5 in the draft (one fewer: green), 6 in district 7.
    assert "Steps 6 5 simpler: −1 6" in text
    # District 7's longer inspection lengthens the longest path by 4 days: red.
    assert "Longest path (working days) 16 12 simpler: −4 20 harder: +4" in text
    # More automatic steps is the simpler process.
    assert "Automatic steps 1 2 simpler: +1 1" in text
    assert 'class="delta delta-worse"' in html and 'class="delta delta-better"' in html
    assert "District 7 inspects slowly" in text
    assert "Version 1 → Version 2" in text
    assert "Steps: +1 −2 ~2" in text


def test_comparing_two_versions_lists_the_steps_added_removed_and_changed(
    client, english, clerk, kiosk, owner
):
    simpler_draft(owner)
    client.force_login(clerk)

    response = client.get(reverse("desk:process_compare", args=["kiosk-permit"]), {"a": "1", "b": "2"})

    assert response.status_code == 200
    text = text_of(response)
    assert "Version 1 and Version 2" in text
    assert "1 step added + Online check online_check Clerk / expert · 1 working day" in text
    assert "2 steps removed" in text
    assert "Beautification review beautification Manager · 3 working days · discretionary" in text
    assert "Deputy's signature deputy_signature" in text
    assert "Signatures 1 0 simpler: −1" in text


def test_comparing_a_version_with_a_district_variant(client, english, clerk, kiosk, owner):
    variant_set(
        version=kiosk,
        district=make_district("d07", 7),
        patch={"change_steps": {"inspect": {"deadline_days": 9}}},
        by=owner,
    )
    client.force_login(clerk)

    response = client.get(reverse("desk:process_compare", args=["kiosk-permit"]), {"a": "1", "b": "1:d07"})

    assert response.status_code == 200
    text = text_of(response)
    assert "Version 1 and Version 1 in District 7" in text
    assert "Site inspection inspect deadline (working days) 5 9" in text


@pytest.mark.parametrize("key", ["9", "1:d99", "one", "1:D07;drop", "-1", ""])
def test_comparing_with_something_that_does_not_exist_is_not_found(client, clerk, kiosk, key):
    client.force_login(clerk)
    response = client.get(reverse("desk:process_compare", args=["kiosk-permit"]), {"a": "1", "b": key or "x"})
    assert response.status_code == 404


def test_an_unknown_service_or_version_is_not_found(client, clerk, kiosk):
    client.force_login(clerk)
    assert client.get(reverse("desk:process_detail", args=["no-such"])).status_code == 404
    assert client.get(reverse("desk:version_detail", args=["kiosk-permit", 7])).status_code == 404
    assert client.get("/desk/processes/kiosk-permit/vone/").status_code == 404


def test_a_draft_version_page_shows_what_the_validator_says(client, english, owner, kiosk):
    simpler_draft(owner)
    client.force_login(owner)

    response = client.get(reverse("desk:version_detail", args=["kiosk-permit", 2]))

    assert response.status_code == 200
    text = text_of(response)
    assert "Edit" in text and "Publish…" in text
    assert "Online check online_check Clerk / expert automatic 1" in text
