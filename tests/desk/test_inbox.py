"""The staff inbox: my queue, working on a case, and a manager's team page."""

import datetime as dt
import hashlib
import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from pishkhan.cases.documents import document_upload
from pishkhan.cases.models import Alert, CaseStatus, Position, PositionState
from tests.cases import hostile
from tests.cases.factories import (
    make_citizen,
    make_district,
    make_staff,
    mobile_new,
    national_id_new,
    publish_definition,
    small_process,
    submit_case,
)

from .helpers import text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def service(db):
    return publish_definition(small_process())


@pytest.fixture
def district(db):
    return make_district()


def case_url(case) -> str:
    return reverse("desk:inbox_case", kwargs={"tracking_code": case.tracking_code})


def review_of(case) -> Position:
    return case.positions.get(step_id="review")


def set_due(case, *, due_at, alert=Alert.NONE):
    Position.objects.filter(case=case, step_id="review").update(due_at=due_at, alert=alert)


def test_someone_not_signed_in_is_sent_to_the_staff_sign_in(client):
    url = reverse("desk:inbox")
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:staff_signin") + "?next=" + url


def test_a_citizen_is_refused(client):
    client.force_login(make_citizen())

    assert client.get(reverse("desk:inbox")).status_code == 403


def test_queue_lists_my_steps_sorted_by_deadline_with_overdue_marked(client, english, service, district):
    clerk = make_staff(role="clerk", district=district)
    now = timezone.now()
    later = submit_case(service=service, district=district)
    overdue = submit_case(service=service, district=district)
    soon = submit_case(service=service, district=district)
    set_due(later, due_at=now + dt.timedelta(days=5))
    set_due(overdue, due_at=now - dt.timedelta(days=1), alert=Alert.OVERDUE)
    set_due(soon, due_at=now + dt.timedelta(hours=3), alert=Alert.SOON)
    client.force_login(clerk)

    response = client.get(reverse("desk:inbox"))

    assert response.status_code == 200
    page = text_of(response)
    codes = [case.tracking_code for case in (overdue, soon, later)]
    positions = [response.content.decode().index(case_url(case)) for case in (overdue, soon, later)]
    assert positions == sorted(positions), codes
    assert "Overdue" in page
    assert "Due soon" in page

    filtered = client.get(reverse("desk:inbox"), {"alert": "overdue"})
    assert case_url(overdue) in filtered.content.decode()
    assert case_url(later) not in filtered.content.decode()


def test_a_clerk_claims_and_releases_a_step_from_the_queue(client, service, district):
    clerk = make_staff(role="clerk", district=district)
    case = submit_case(service=service, district=district)
    client.force_login(clerk)

    response = client.post(reverse("desk:inbox_claim", kwargs={"position_id": review_of(case).pk}))
    assert response.status_code == 302
    assert review_of(case).assignee == clerk

    client.post(reverse("desk:inbox_release", kwargs={"position_id": review_of(case).pk}))
    assert review_of(case).state == PositionState.QUEUED


def test_a_clerk_of_another_district_does_not_see_the_case(client, service, district):
    case = submit_case(service=service, district=district)
    stranger = make_staff(role="clerk", district=make_district())
    client.force_login(stranger)

    assert client.get(case_url(case)).status_code == 404
    assert case_url(case) not in client.get(reverse("desk:inbox")).content.decode()


def test_approve_moves_the_case_and_writes_the_event(client, service, district):
    clerk = make_staff(role="clerk", district=district)
    case = submit_case(service=service, district=district)
    client.force_login(clerk)

    response = client.post(case_url(case), {"step": "review", "outcome": "approve", "reason": ""})

    assert response.status_code == 302
    event = case.events.order_by("-seq").filter(activity="completed").first()
    assert (event.step_id, event.outcome, event.actor) == ("review", "approve", clerk)
    open_steps = set(case.positions.filter(state=PositionState.QUEUED).values_list("step_id", flat=True))
    assert open_steps == {"inspect", "tech_review"}


def test_reject_without_a_reason_is_refused_and_keeps_the_typed_text(client, english, service, district):
    clerk = make_staff(role="clerk", district=district)
    case = submit_case(service=service, district=district)
    client.force_login(clerk)

    response = client.post(
        case_url(case),
        {"step": "review", "outcome": "reject", "reason_choice": "", "reason": "Plan is off by 3 m"},
    )

    assert response.status_code == 400
    assert "Choose the reason for rejecting" in text_of(response)
    assert "Plan is off by 3 m" in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


def test_reject_with_a_common_reason_closes_the_case(client, english, service, district):
    clerk = make_staff(role="clerk", district=district)
    case = submit_case(service=service, district=district)
    client.force_login(clerk)

    client.post(
        case_url(case),
        {"step": "review", "outcome": "reject", "reason_choice": "detailed_plan", "reason": ""},
    )

    case.refresh_from_db()
    assert case.status == CaseStatus.REJECTED
    assert "detailed plan" in case.events.get(outcome="reject").reason


def test_return_with_missing_documents_puts_the_case_with_the_citizen(client, service, district):
    clerk = make_staff(role="clerk", district=district)
    case = submit_case(service=service, district=district)
    client.force_login(clerk)

    response = client.post(
        case_url(case),
        {
            "step": "review",
            "outcome": "return",
            "missing": ["deed"],
            "message": "سند خوانا نیست",
            "due_days": "5",
        },
    )

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.WITH_CITIZEN
    position = review_of(case)
    assert position.state == PositionState.WITH_CITIZEN
    assert position.request["missing"] == ["deed"]


def test_acting_on_a_step_already_done_is_a_conflict(client, english, service, district):
    clerk = make_staff(role="clerk", district=district)
    case = submit_case(service=service, district=district)
    client.force_login(clerk)
    client.post(case_url(case), {"step": "review", "outcome": "approve"})

    response = client.post(case_url(case), {"step": "review", "outcome": "approve"})

    assert response.status_code == 409
    assert "Someone completed this step before you" in text_of(response)


def test_the_case_view_shows_no_personal_data_of_the_applicant(client, service, district):
    clerk = make_staff(role="clerk", district=district)
    applicant = make_citizen(mobile="09351112233", national_id="0499370899", first_name="Maryam")
    case = submit_case(service=service, district=district, applicant=applicant)
    client.force_login(clerk)

    response = client.get(case_url(case))

    assert response.status_code == 200
    page = response.content.decode()
    for secret in ("09351112233", "۰۹۳۵۱۱۱۲۲۳۳", "0499370899", "۰۴۹۹۳۷۰۸۹۹", "Maryam", applicant.last_name):
        assert secret not in page
    assert "مساحت (مترمربع)" in page  # the answers, labelled from the definition


def test_only_managers_see_the_team_page(client, district):
    client.force_login(make_staff(role="clerk", district=district))
    assert client.get(reverse("desk:inbox_team")).status_code == 403

    client.force_login(make_staff(role="manager", district=district))
    assert client.get(reverse("desk:inbox_team")).status_code == 200


def test_a_manager_reassigns_an_overdue_step(client, english, service, district):
    manager = make_staff(role="manager", district=district)
    busy = make_staff(role="clerk", district=district, first_name="Busy")
    free = make_staff(role="clerk", district=district, first_name="Free", last_name="Clerk")
    case = submit_case(service=service, district=district)
    set_due(case, due_at=timezone.now() - dt.timedelta(days=2), alert=Alert.OVERDUE)
    Position.objects.filter(pk=review_of(case).pk).update(state=PositionState.CLAIMED, assignee=busy)
    client.force_login(manager)
    page = client.get(reverse("desk:inbox_team"))
    assert case_url(case) in page.content.decode()

    refused = client.post(
        reverse("desk:inbox_team"), {"position": review_of(case).pk, "to": free.pk, "reason": ""}
    )
    assert refused.status_code == 400
    response = client.post(
        reverse("desk:inbox_team"),
        {"position": review_of(case).pk, "to": free.pk, "reason": "Busy is on leave"},
    )

    assert response.status_code == 302
    event = case.events.order_by("-seq").first()
    assert (event.activity, event.actor, event.reason) == ("reassigned", manager, "Busy is on leave")
    assert review_of(case).assignee == free
    assert "Assigned to Free Clerk" in text_of(client.get(response["Location"]))


def test_the_case_view_previews_a_pdf_inline_and_labels_it_from_the_definition(client, service, district):
    clerk = make_staff(role="clerk", district=district)
    case = submit_case(service=service, district=district)
    upload = SimpleUploadedFile("سند.pdf", hostile.pdf(), content_type="application/pdf")
    document = document_upload(case=case, document_type="deed", upload=upload, by=case.applicant)
    client.force_login(clerk)

    page = client.get(case_url(case)).content.decode()

    download = reverse(
        "cases:document_download", kwargs={"tracking_code": case.tracking_code, "document_id": document.pk}
    )
    assert f'<iframe src="{download}?preview=1"' in page
    assert "سند مالکیت" in page


def test_an_inspector_marks_the_inspection_done(client, service, district):
    clerk = make_staff(role="clerk", district=district)
    inspector = make_staff(role="inspector", district=district)
    case = submit_case(service=service, district=district)
    client.force_login(clerk)
    client.post(case_url(case), {"step": "review", "outcome": "approve"})
    client.force_login(inspector)

    page = client.get(case_url(case)).content.decode()
    assert 'name="outcome" value="done"' in page
    assert 'name="outcome" value="reject"' not in page
    response = client.post(
        case_url(case), {"step": "inspect", "outcome": "done", "findings": "The site is as declared."}
    )

    assert response.status_code == 302
    assert case.events.filter(step_id="inspect", outcome="done", actor=inspector).exists()


def test_the_case_view_shows_a_map_point_as_coordinates_and_a_date_in_jalali():
    from django.utils import translation

    from pishkhan.catalog.definition import definition_from_dict
    from pishkhan.desk.inbox_views import _answer_rows

    definition = definition_from_dict(
        {
            "code": "t",
            "title": {"fa": "آزمون"},
            "start": "e",
            "fields": [
                {"id": "site", "type": "map_point", "label": {"fa": "محل", "en": "Site"}},
                {"id": "start_on", "type": "jalali_date", "label": {"fa": "تاریخ شروع", "en": "Start"}},
            ],
            "steps": [{"id": "e", "kind": "end", "result": "approved"}],
        }
    )
    with translation.override("fa"):
        rows = _answer_rows(
            None, definition, {"site": {"lat": 35.7, "lng": 51.4}, "start_on": "2025-03-25"}, "fa"
        )
    shown = {row["label"]: row["value"] for row in rows}
    assert shown["محل"] == "35.7, 51.4"
    assert shown["تاریخ شروع"] == "۵ فروردین ۱۴۰۴"


def owners_process() -> dict:
    """small_process whose form also asks about the site (a group: its use, whether it is fenced,
    when it was surveyed, where it is, the caretaker's mobile) and its owners (a repeated group:
    each owner's name, share, national ID and a scan of the ID card, an `id_card` document)."""
    label = lambda fa, en: {"fa": fa, "en": en}  # noqa: E731
    process = small_process(code="owners-permit")
    process["documents"].append(
        {
            "id": "id_card",
            "title": label("کارت ملی", "ID card"),
            "formats": ["pdf", "jpg"],
            "required": False,
            "step": "review",
        }
    )
    process["fields"] += [
        {
            "id": "site",
            "type": "group",
            "label": label("مشخصات ملک", "The site"),
            "fields": [
                {
                    "id": "use",
                    "type": "choice",
                    "label": label("کاربری", "Use"),
                    "options": [
                        {"value": "shop", "label": label("تجاری", "Shop")},
                        {"value": "home", "label": label("مسکونی", "Home")},
                    ],
                },
                {"id": "fenced", "type": "boolean", "label": label("حصارکشی", "Fenced")},
                {
                    "id": "surveyed_on",
                    "type": "jalali_date",
                    "label": label("تاریخ نقشه‌برداری", "Surveyed on"),
                },
                {"id": "point", "type": "map_point", "label": label("موقعیت", "Location")},
                {"id": "caretaker", "type": "mobile", "label": label("همراه سرایدار", "Caretaker's mobile")},
            ],
        },
        {
            "id": "owners",
            "type": "group",
            "label": label("مالکان", "Owners"),
            "repeat": {"min": 1, "max": 5},
            "fields": [
                {"id": "name", "type": "text", "label": label("نام", "Name"), "required": True},
                {"id": "share", "type": "number", "label": label("سهم (درصد)", "Share (%)")},
                {"id": "national_id", "type": "national_id", "label": label("کد ملی", "National ID")},
                {
                    "id": "id_card",
                    "type": "file",
                    "label": label("تصویر کارت ملی", "ID card scan"),
                    "document": "id_card",
                },
            ],
        },
    ]
    return process


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def answers_part(response) -> str:
    """The HTML of the page's "Form answers" section."""
    return response.content.decode().split('id="answers-heading"')[1].split("</section>")[0]


def answers_text(part: str) -> str:
    """What a reader sees of `part`: its text without tags, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", part)).split())


def attach_id_card(case, content: bytes, name: str):
    kind = "application/pdf" if name.endswith(".pdf") else "image/jpeg"
    upload = SimpleUploadedFile(name, content, content_type=kind)
    return document_upload(case=case, document_type="id_card", upload=upload, by=case.applicant)


def test_the_case_view_shows_every_owner_row_with_the_id_card_linked_and_the_national_id_withheld(
    client, english, district
):
    service = publish_definition(owners_process())
    first_card, second_card = hostile.pdf(), hostile.jpeg()
    owner_id = national_id_new()
    owners = [
        {"name": "Parvin Ahmadi", "share": 60, "national_id": owner_id, "id_card": sha(first_card)},
        {"name": "Hamid Karimi", "share": 40, "id_card": sha(second_card)},
    ]
    case = submit_case(service=service, district=district, answers={"area_m2": 12, "owners": owners})
    first = attach_id_card(case, first_card, "parvin-id.pdf")
    second = attach_id_card(case, second_card, "hamid-id.jpg")
    client.force_login(make_staff(role="clerk", district=district))

    part = answers_part(client.get(case_url(case)))

    assert (
        "Owners Row 1 Name Parvin Ahmadi Share (%) 60 National ID Not shown: contact with the applicant "
        "goes through the system. ID card scan parvin-id.pdf Row 2 Name Hamid Karimi Share (%) 40 "
        "ID card scan hamid-id.jpg"
    ) in answers_text(part)
    for document in (first, second):
        download = reverse(
            "cases:document_download",
            kwargs={"tracking_code": case.tracking_code, "document_id": document.pk},
        )
        assert f'<a href="{download}">{document.original_name}</a>' in part
    for secret in (sha(first_card), sha(second_card), owner_id):
        assert secret not in part
    assert "entries" not in part


def test_the_case_view_numbers_the_rows_in_persian(client, district):
    service = publish_definition(owners_process())
    owners = [{"name": "پروین احمدی"}, {"name": "حمید کریمی"}, {"name": "مینا رضایی"}]
    case = submit_case(service=service, district=district, answers={"area_m2": 12, "owners": owners})
    client.force_login(make_staff(role="clerk", district=district))

    part = answers_part(client.get(case_url(case)))

    assert "ردیف ۱" in part and "ردیف ۲" in part and "ردیف ۳" in part
    assert part.index("پروین احمدی") < part.index("حمید کریمی") < part.index("مینا رضایی")


def test_the_case_view_shows_a_groups_fields_by_their_labels_formatted_like_the_top_level(
    client, english, district
):
    service = publish_definition(owners_process())
    caretaker = mobile_new()
    site = {
        "use": "shop",
        "fenced": True,
        "surveyed_on": "2025-03-25",
        "point": {"lat": 35.7, "lng": 51.4},
        "caretaker": caretaker,
    }
    answers = {"area_m2": 12, "site": site, "owners": [{"name": "Parvin Ahmadi"}]}
    case = submit_case(service=service, district=district, answers=answers)
    client.force_login(make_staff(role="clerk", district=district))

    part = answers_part(client.get(case_url(case)))

    assert (
        "The site Use Shop Fenced Yes Surveyed on 5 Farvardin 1404 Location 35.7, 51.4 "
        "Caretaker's mobile Not shown: contact with the applicant goes through the system."
    ) in answers_text(part)
    for raw in ("use:", "shop", "surveyed_on", "2025-03-25", caretaker):
        assert raw not in part


def test_the_answers_read_the_case_documents_once_however_many_files_the_rows_hold(
    district, django_assert_num_queries
):
    from pishkhan.cases.selectors import case_definition
    from pishkhan.desk.inbox_views import _answer_rows

    service = publish_definition(owners_process())
    cards = [hostile.jpeg(width=40 + n) for n in range(3)]
    owners = [{"name": f"Owner {n}", "id_card": sha(card)} for n, card in enumerate(cards)]
    case = submit_case(service=service, district=district, answers={"area_m2": 12, "owners": owners})
    for n, card in enumerate(cards):
        attach_id_card(case, card, f"owner-{n}.jpg")
    definition = case_definition(case)

    with django_assert_num_queries(1):
        rows = _answer_rows(case, definition, case.answers, "en")

    (owners,) = [row for row in rows if row["label"] == "Owners"]
    cards_shown = [
        answer["value"] for row in owners["rows"] for answer in row if answer["label"] == "ID card scan"
    ]
    assert cards_shown == ["owner-0.jpg", "owner-1.jpg", "owner-2.jpg"]
