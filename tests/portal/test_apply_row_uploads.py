"""A file field inside a repeated group: each row of the application form has its own upload
control (`owners[1].id_card`), each row's file is checked and kept as it arrives, follows its row
when an empty row before it is dropped, and becomes a document of its own on the case. At the
office counter too."""

import re

import pytest
from django.urls import reverse

from pishkhan.cases.models import Case, StoredFile
from pishkhan.portal.models import ApplicationDraft
from tests.cases import hostile
from tests.cases.factories import mobile_new, national_id_new, publish_definition, small_process
from tests.portal.test_apply_uploads import a_file, apply_url, kept, sha, text_of, token_of, upload_url
from tests.portal.test_counter import give_consent

pytestmark = pytest.mark.django_db


def owners_process() -> dict:
    """small_process with a repeated group of owners (one to three), each with a name and a
    required ID card scan (document `owner_id`)."""
    label = lambda fa, en: {"fa": fa, "en": en}  # noqa: E731
    documents = small_process()["documents"] + [
        {
            "id": "owner_id",
            "title": label("کارت ملی مالک", "Owner's ID card"),
            "formats": ["jpg", "png", "pdf"],
            "step": "review",
        }
    ]
    return small_process(
        code="owners-permit",
        documents=documents,
        fields=[
            {
                "id": "area_m2",
                "type": "number",
                "label": label("مساحت", "Area"),
                "required": True,
                "max": 1000,
            },
            {
                "id": "owners",
                "type": "group",
                "label": label("مالکان", "Owners"),
                "repeat": {"min": 1, "max": 3},
                "fields": [
                    {"id": "name", "type": "text", "label": label("نام", "Name"), "required": True},
                    {
                        "id": "id_card",
                        "type": "file",
                        "label": label("کارت ملی", "ID card"),
                        "document": "owner_id",
                        "required": True,
                    },
                ],
            },
        ],
    )


@pytest.fixture
def service():
    return publish_definition(owners_process())


def form(district, **values) -> dict:
    return {"area_m2": "12", "_district": district.code, **values}


def test_each_row_has_its_own_upload_control_and_the_endpoint_takes_only_real_rows(signed_in, service):
    page = text_of(signed_in.get(apply_url(service)))

    assert re.search(r'<input type="file" id="f-owners-0-id_card" name="owners\[0\]\.id_card"', page)
    assert 'data-upload="owners[0].id_card"' in page and 'value="owners[0].id_card"' in page
    # No "documents are uploaded later" notice: the row uploads it.
    assert "after you send this form" not in page

    taken = signed_in.post(
        upload_url(service), {"slot": "owners[2].id_card", "file": a_file(hostile.png(), "c.png")}
    )
    assert taken.status_code == 200 and taken.json()["slot"] == "owners[2].id_card"
    for name in ("owners[3].id_card", "owners[].id_card", "owners[01].id_card", "owners.id_card", "id_card"):
        answer = signed_in.post(upload_url(service), {"slot": name, "file": a_file(hostile.jpeg(), "x.jpg")})
        assert answer.status_code == 400 and "no such upload" in answer.json()["error"], name
    assert StoredFile.objects.count() == 1


def test_each_rows_file_becomes_its_own_document_in_row_order(signed_in, service, district, citizen):
    maryam, reza = hostile.png(colour="teal"), hostile.png(colour="orange")
    token = token_of(signed_in.get(apply_url(service)))

    filed = signed_in.post(
        apply_url(service),
        form(
            district,
            _token=token,
            **{
                "owners[0].name": "Maryam",
                "owners[0].id_card": a_file(maryam, "maryam.png"),
                "owners[1].name": "Reza",
                "owners[1].id_card": a_file(reza, "reza.png"),
            },
        ),
    )

    case = Case.objects.get()
    assert filed.status_code == 302
    assert case.answers["owners"] == [
        {"name": "Maryam", "id_card": sha(maryam)},
        {"name": "Reza", "id_card": sha(reza)},
    ]
    documents = list(case.documents.order_by("pk"))
    assert [(d.document_type, d.original_name, d.file.sha256) for d in documents] == [
        ("owner_id", "maryam.png", sha(maryam)),
        ("owner_id", "reza.png", sha(reza)),
    ]
    assert case.events.filter(activity="document_uploaded").count() == 2
    assert not ApplicationDraft.objects.filter(user=citizen).exists()


def test_a_file_follows_its_row_when_an_empty_row_before_it_is_dropped(signed_in, service, district, citizen):
    """Three rows in the browser, the middle one left empty: the third becomes the second, with
    its file, on the page drawn again and in what is kept; sent corrected, it is filed there."""
    first, third = hostile.png(colour="teal"), hostile.png(colour="navy")
    token = token_of(signed_in.get(apply_url(service)))
    signed_in.post(upload_url(service), {"slot": "owners[0].id_card", "file": a_file(first, "first.png")})
    signed_in.post(upload_url(service), {"slot": "owners[2].id_card", "file": a_file(third, "third.png")})

    refused = signed_in.post(
        apply_url(service),
        form(
            district,
            area_m2="5000",
            _token=token,
            **{"owners[0].name": "Maryam", "owners[1].name": "", "owners[2].name": "Sara"},
        ),
    )

    assert refused.status_code == 400 and not Case.objects.exists()
    assert {name: record["name"] for name, record in kept(citizen, service).items()} == {
        "owners[0].id_card": "first.png",
        "owners[1].id_card": "third.png",
    }
    page = text_of(refused)
    assert 'name="owners[1].name" value="Sara"' in page and "owners[2]" not in page
    second_row = page.split('data-row="1"', 1)[1].split('data-row="2"', 1)[0]
    assert re.search(r'class="upload-kept" id="f-owners-1-id_card-kept">', second_row)
    assert "third.png" in second_row

    signed_in.post(
        apply_url(service),
        form(district, _token=token, **{"owners[0].name": "Maryam", "owners[1].name": "Sara"}),
    )

    case = Case.objects.get()
    assert [row["id_card"] for row in case.answers["owners"]] == [sha(first), sha(third)]
    assert [d.original_name for d in case.documents.order_by("pk")] == ["first.png", "third.png"]


def test_a_row_with_only_its_file_is_kept_and_its_missing_name_is_said(signed_in, service, district, citizen):
    token = token_of(signed_in.get(apply_url(service)))
    signed_in.post(
        upload_url(service), {"slot": "owners[1].id_card", "file": a_file(hostile.jpeg(), "b.jpg")}
    )

    refused = signed_in.post(apply_url(service), form(district, _token=token, **{"owners[0].name": "Maryam"}))

    assert refused.status_code == 400 and not Case.objects.exists()
    page = text_of(refused)
    assert re.search(r'id="f-owners-1-name-error">[^<]*Name', page)
    assert re.search(r'id="f-owners-0-id_card-error">[^<]*ID card', page)  # row 1 has no file
    assert "b.jpg" in page.split('data-row="1"', 1)[1]
    assert list(kept(citizen, service)) == ["owners[1].id_card"]


def test_a_file_kept_for_a_row_added_in_the_browser_shows_in_that_row_when_the_draft_is_opened(
    signed_in, service
):
    signed_in.post(
        upload_url(service), {"slot": "owners[2].id_card", "file": a_file(hostile.jpeg(), "c.jpg")}
    )

    page = text_of(signed_in.get(apply_url(service)))

    assert 'data-row="2"' in page
    assert re.search(r'class="upload-kept" id="f-owners-2-id_card-kept">', page) and "c.jpg" in page


def test_a_hostile_file_in_a_row_is_refused_naming_the_row_and_nothing_is_stored(
    signed_in, service, district, citizen
):
    token = token_of(signed_in.get(apply_url(service)))

    refused = signed_in.post(
        apply_url(service),
        form(
            district,
            _token=token,
            **{
                "owners[0].name": "Maryam",
                "owners[0].id_card": a_file(hostile.png(), "a.png"),
                "owners[1].name": "Reza",
                "owners[1].id_card": a_file(hostile.svg_with_script(), "b.png"),
            },
        ),
    )

    assert refused.status_code == 400 and not Case.objects.exists()
    error = re.search(r'<p class="error" id="f-owners-1-id_card-error">([^<]+)</p>', text_of(refused)).group(
        1
    )
    assert error.startswith("ID card (row 2): ") and "SVG" in error
    assert list(kept(citizen, service)) == ["owners[0].id_card"]
    assert StoredFile.objects.count() == 1

    answer = signed_in.post(
        upload_url(service), {"slot": "owners[2].id_card", "file": a_file(hostile.exe(), "c.png")}
    )
    assert answer.status_code == 400 and answer.json()["error"].startswith("ID card (row 3): ")


def test_the_operator_scans_each_owners_card_at_the_counter(counter, service):
    client, office, operator = counter
    give_consent(client, service, national_id=national_id_new(), mobile=mobile_new())
    for row, colour in enumerate(("teal", "olive")):
        answer = client.post(
            reverse("portal:counter_upload"),
            {"slot": f"owners[{row}].id_card", "file": a_file(hostile.png(colour=colour), f"{colour}.png")},
        )
        assert answer.status_code == 200

    filed = client.post(
        reverse("portal:counter_file"),
        {"_token": "c1", "area_m2": "20", "owners[0].name": "Maryam", "owners[1].name": "Reza"},
    )

    case = Case.objects.get()
    assert filed.status_code == 302 and case.office == office
    documents = list(case.documents.order_by("pk"))
    assert [d.original_name for d in documents] == ["teal.png", "olive.png"]
    assert all(d.document_type == "owner_id" and d.uploaded_by == operator for d in documents)


# --- adding a row without the script ------------------------------------------------------------


def test_without_the_script_add_a_row_draws_one_more_row_keeping_what_was_typed_and_kept(
    signed_in, service, district, citizen
):
    first = signed_in.get(apply_url(service))
    assert re.search(
        r'<button type="submit" class="button apply-add-row" name="_action" value="add-row:owners"',
        text_of(first),
    )
    token = token_of(first)

    more = signed_in.post(
        apply_url(service),
        form(
            district,
            _token=token,
            _action="add-row:owners",
            **{"owners[0].name": "Maryam", "owners[0].id_card": a_file(hostile.png(), "maryam.png")},
        ),
    )

    assert more.status_code == 200 and not Case.objects.exists()
    page = text_of(more)
    assert 'name="owners[0].name" value="Maryam"' in page and "maryam.png" in page
    assert re.search(
        r'<input type="text" id="f-owners-1-name" name="owners\[1\]\.name" value="" autofocus', page
    )
    assert 'name="owners[1].id_card"' in page and 'data-row="2"' not in page
    assert list(kept(citizen, service)) == ["owners[0].id_card"]
    assert 'role="alert"' not in page and "aria-invalid" not in page  # nothing is checked yet


def test_a_group_at_its_most_rows_offers_no_add_button_and_gets_no_more_rows(signed_in, service, district):
    rows = {f"owners[{i}].name": name for i, name in enumerate(("Maryam", "Reza", "Sara"))}

    full = signed_in.post(apply_url(service), form(district, _token="t", _action="add-row:owners", **rows))

    page = text_of(full)
    assert full.status_code == 200 and 'data-row="2"' in page and 'data-row="3"' not in page
    assert re.search(r'value="add-row:owners"[^>]*hidden style="display: none"', page)
    assert " autofocus" not in page
