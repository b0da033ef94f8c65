"""The public catalogue: the list of services with its search, and the page of one service."""

import html as htmllib
import re

import pytest
from django.urls import reverse

from pishkhan.catalog.bank import bank_load

from .factories import REAL_BANK, import_kiosk_draft, kiosk_source, make_owner, publish_kiosk

pytestmark = pytest.mark.django_db

ARABIC_YEH, ARABIC_KAF = "\u064a", "\u0643"


def english(client):
    client.cookies["django_language"] = "en"
    return client


def text_of(response) -> str:
    """The page's text without tags, whitespace collapsed: what a reader sees."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture
def kiosk():
    return publish_kiosk()


# --- the list ---------------------------------------------------------------------------------


def test_the_catalogue_lists_published_services_by_category_with_days_and_channels(client, kiosk):
    response = client.get(reverse("portal:service_list"))

    assert response.status_code == 200
    text = text_of(response)
    assert "خدمات شهری" in text  # the category's heading
    assert "مجوز نصب کیوسک" in text
    assert "۱۲ روز کاری" in text  # the service norm, in Persian digits
    assert "اینترنتی" in text and "دفتر خدمات الکترونیک" in text
    assert reverse("portal:service_detail", args=["kiosk-permit"]) in response.content.decode()


def test_a_query_typed_with_arabic_yeh_and_kaf_finds_the_same_service(client, kiosk):
    persian = client.get(reverse("portal:service_list"), {"q": "کیوسک"})
    arabic = client.get(reverse("portal:service_list"), {"q": f"{ARABIC_KAF}{ARABIC_YEH}وس{ARABIC_KAF}"})
    without_spaces = client.get(reverse("portal:service_list"), {"q": "نصبکیوسک"})

    for response in (persian, arabic, without_spaces):
        assert response.status_code == 200
        assert "مجوز نصب کیوسک" in text_of(response)
    # What was typed stays in the box, as typed.
    assert f'value="{ARABIC_KAF}{ARABIC_YEH}وس{ARABIC_KAF}"' in arabic.content.decode()


def test_a_search_that_finds_nothing_says_so_kindly(client, kiosk):
    response = english(client).get(reverse("portal:service_list"), {"q": "submarine licence"})

    assert response.status_code == 200
    text = text_of(response)
    assert "No service matches “submarine licence”" in text
    assert "Try fewer words" in text
    assert "Kiosk permit" not in text


def test_the_category_filter_shows_one_group(client, kiosk):
    response = english(client).get(reverse("portal:service_list"), {"category": "urban-services"})

    assert response.status_code == 200
    assert "Kiosk permit" in text_of(response)
    assert 'aria-current="page">Urban services' in response.content.decode()


def test_an_unknown_category_is_refused_with_a_message(client, kiosk):
    response = english(client).get(reverse("portal:service_list"), {"category": "space-travel"})

    assert response.status_code == 400
    assert "There is no such group of services" in text_of(response)
    assert "Kiosk permit" in text_of(response)  # the whole catalogue is still there below


def test_a_query_too_long_is_refused_and_kept_in_the_box(client, kiosk):
    query = "پروانه " * 30
    response = client.get(reverse("portal:service_list"), {"q": query})

    assert response.status_code == 400
    assert "حداکثر" in text_of(response)  # "at most … characters", in Persian by default
    assert query.strip()[:50] in response.content.decode()


def test_a_service_with_only_a_draft_is_not_in_the_catalogue_and_its_page_is_not_found(client):
    import_kiosk_draft(make_owner())

    listing = client.get(reverse("portal:service_list"))
    page = client.get(reverse("portal:service_detail", args=["kiosk-permit"]))

    assert "مجوز نصب کیوسک" not in text_of(listing)
    assert "هنوز" in text_of(listing)  # "no services have been published yet"
    assert page.status_code == 404


def test_an_unknown_service_code_gets_the_catalogues_not_found_page(client):
    response = english(client).get("/services/no-such-service/")

    assert response.status_code == 404
    assert "We could not find this service" in text_of(response)
    assert reverse("portal:service_list") in response.content.decode()


# --- a service --------------------------------------------------------------------------------


def test_the_service_page_tells_a_citizen_everything_before_applying(client, kiosk):
    response = english(client).get(reverse("portal:service_detail", args=["kiosk-permit"]))

    assert response.status_code == 200
    text = text_of(response)
    assert "<h1>Kiosk permit</h1>" in response.content.decode()
    assert "Permit to put up a news kiosk" in text  # description
    assert "Holders of a press business licence" in text  # eligibility
    # Documents, with formats, size limit and whether they are required.
    assert "Business licence" in text and "PDF, JPG" in text and "Up to 5 MB" in text
    assert "Photo of the site If it applies" in text
    # Deadlines: the city's norm and the law's deadline, apart.
    assert "Usually takes 12 working days" in text
    assert "Legal deadline 30 working days" in text
    assert "Online" in text and "E-service office" in text
    assert "قانون شهرداری‌ها — ماده ۵۵ بند ۲" in text
    assert "Kiosk permit — valid for 365 days" in text


def test_each_fee_says_what_it_depends_on_in_plain_words(client, kiosk):
    response = english(client).get(reverse("portal:service_detail", args=["kiosk-permit"]))

    text = text_of(response)
    assert "Filing fee 500,000 Rials" in text  # a fixed amount is shown as it is
    assert "The amount depends on: Kiosk area (m²) and Place." in text
    assert "Charged only in some cases, depending on: Night sales." in text
    assert "Paid at the step: Pay the duty" in text


def test_the_steps_diagram_shows_parallel_branches_and_does_not_hide_discretionary_steps(client, kiosk):
    response = english(client).get(reverse("portal:service_detail", args=["kiosk-permit"]))

    html = response.content.decode()
    assert html.count('class="flow-branch"') == 2
    text = text_of(response)
    assert "These 2 go on at the same time" in text
    # Each step with its role and days; the discretionary ones marked, not left out.
    assert "Site inspection Inspector · up to 5 working days" in text
    assert "Beautification review Manager · up to 3 working days Discretionary (no legal basis)" in text
    assert (
        "Deputy's signature Signatory · up to 4 working days Discretionary (no legal basis) Signature" in text
    )
    assert "Pay the duty You · up to 5 working days Your turn" in text
    assert "Result: Permit issued" in text
    assert "This service has 6 steps" in text
    # A short process is drawn whole, not in stages.
    assert 'class="stages"' not in html


def test_the_fee_estimate_is_worked_out_on_the_server(client, kiosk):
    url = reverse("portal:service_detail", args=["kiosk-permit"])
    response = english(client).get(
        url, {"estimate": "1", "fee-area_m2": "۴٫۵", "fee-place": "park", "fee-night_sales": "on"}
    )

    assert response.status_code == 200
    text = text_of(response)
    assert "Your estimate" in text
    assert "Kiosk duty 9,000,000 Rials" in text  # 4.5 m² × 2,000,000 in a park
    assert "Night sales duty 3,000,000 Rials" in text
    assert "Total 12,500,000 Rials" in text


def test_a_fee_whose_condition_is_false_is_listed_as_not_charged(client, kiosk):
    url = reverse("portal:service_detail", args=["kiosk-permit"])
    response = english(client).get(url, {"estimate": "1", "fee-area_m2": "2", "fee-place": "pavement"})

    text = text_of(response)
    assert "Night sales duty Not charged for your answers" in text
    assert "Total 2,500,000 Rials" in text


def test_a_wrong_estimate_answer_is_refused_with_a_message_and_the_answers_are_kept(client, kiosk):
    url = reverse("portal:service_detail", args=["kiosk-permit"])
    response = english(client).get(url, {"estimate": "1", "fee-area_m2": "500", "fee-place": "moon"})

    assert response.status_code == 400
    text = text_of(response)
    assert "Type a number from 1 to 20." in text
    assert "Please choose one of the options in the list." in text
    assert 'value="500"' in response.content.decode()
    assert "Your estimate" not in text


def test_the_service_page_is_in_persian_by_default(client, kiosk):
    response = client.get(reverse("portal:service_detail", args=["kiosk-permit"]))

    text = text_of(response)
    assert "مجوز نصب کیوسک" in text
    assert "بازدید محل" in text
    assert "۳۰ روز کاری" in text


def test_a_new_published_version_replaces_the_old_one_on_the_page(client, kiosk):
    owner = make_owner("owner2")
    publish_kiosk(owner, source=kiosk_source(**{"service_norm_days: 12": "service_norm_days: 7"}))

    response = english(client).get(reverse("portal:service_detail", args=["kiosk-permit"]))

    assert "Usually takes 7 working days" in text_of(response)
    assert "Process version 2" in text_of(response)


def test_a_long_process_is_shown_in_stages_and_every_step_is_on_the_page(client):
    report = bank_load(directory=REAL_BANK)
    assert report.ok, report.lines()

    response = english(client).get(reverse("portal:service_detail", args=["building-permit"]))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="stages"' in html
    assert html.count('class="stage"') >= 5
    assert "Open all stages" in html
    # Every work step is somewhere on the page: in a stage, or among the steps only some cases take.
    assert html.count('class="flow-number"') == 129
    assert "Discretionary (no legal basis)" in html


def test_a_fee_collected_off_the_main_path_is_explained_and_left_out_of_the_estimate(client):
    source = kiosk_source(
        **{
            "      - {outcome: approve, to: reviews}\n": (
                "      - {outcome: approve, to: oversize, when: 'area_m2 > 15'}\n"
                "      - {outcome: approve, to: reviews}\n"
            ),
            "  - id: reviews\n    kind: fork": (
                "  - id: oversize\n    title: {fa: پرداخت جریمه کیوسک بزرگ, en: Pay the oversize fine}\n"
                "    role: clerk\n    kind: payment\n    deadline_days: 3\n"
                "    legal_basis: {law: آیین‌نامه کیوسک‌ها, article: ماده ۹}\n"
                "    outcomes:\n      - {outcome: done, to: reviews}\n"
                "  - id: reviews\n    kind: fork"
            ),
            "fees:\n": "fees:\n  - id: oversize_fine\n    title: {fa: جریمه کیوسک بزرگ, en: Oversize fine}\n"
            '    amount: "5000000"\n    step: oversize\n',
        }
    )
    publish_kiosk(source=source)
    url = reverse("portal:service_detail", args=["kiosk-permit"])

    page = english(client).get(url, {"estimate": "1", "fee-area_m2": "18", "fee-place": "pavement"})

    text = text_of(page)
    assert (
        "Oversize fine 5,000,000 Rials Only for cases that go through the step “Pay the oversize fine”"
        in text
    )
    assert "Oversize fine Only in some cases; not in the total" in text
    assert "Total 18,500,000 Rials" in text  # 500,000 filing + 18 × 1,000,000, without the fine
    assert "One more step that only some cases go through" in text


@pytest.mark.django_db
def test_a_service_whose_title_is_the_query_comes_first():
    from pishkhan.catalog.bank import bank_load
    from pishkhan.catalog.selectors import service_search

    bank_load()
    found = service_search(query="پروانه ساختماني")  # typed with Arabic Yeh
    assert found[0].code == "building-permit"
    assert len(found) > 1
