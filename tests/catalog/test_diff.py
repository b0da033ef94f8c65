import copy

from pishkhan.catalog.definition import definition_from_dict
from pishkhan.catalog.diff import definition_diff, definition_diff_text, variant_departure


def standard():
    return {
        "code": "excavation-permit",
        "version": 1,
        "title": {"fa": "مجوز حفاری", "en": "Excavation permit"},
        "start": "receive",
        "documents": [
            {"id": "deed", "title": {"fa": "سند مالکیت"}, "formats": ["pdf"], "step": "receive"},
            {"id": "map", "title": {"fa": "نقشه"}, "formats": ["pdf"], "step": "receive"},
        ],
        "fees": [{"id": "fee", "title": {"fa": "هزینه"}, "amount": "1000", "step": "pay"}],
        "steps": [
            {
                "id": "receive",
                "title": {"fa": "دریافت مدارک", "en": "Receive documents"},
                "role": "clerk",
                "kind": "review",
                "deadline_days": 2,
                "outcomes": [{"outcome": "approve", "to": "inspect"}],
            },
            {
                "id": "inspect",
                "title": {"fa": "بازدید", "en": "Inspection"},
                "role": "inspector",
                "kind": "inspection",
                "deadline_days": 5,
                "outcomes": [{"outcome": "done", "to": "archive_copy"}],
            },
            {
                "id": "archive_copy",
                "title": {"fa": "بایگانی رونوشت", "en": "Archive a copy"},
                "role": "clerk",
                "kind": "review",
                "deadline_days": 1,
                "discretionary": True,
                "outcomes": [{"outcome": "done", "to": "pay"}],
            },
            {
                "id": "pay",
                "title": {"fa": "پرداخت", "en": "Payment"},
                "role": "clerk",
                "kind": "payment",
                "deadline_days": 3,
                "outcomes": [{"outcome": "done", "to": "issued"}],
            },
            {"id": "issued", "kind": "end", "result": "approved"},
        ],
    }


def test_identical_definitions_have_no_differences():
    diff = definition_diff(definition_from_dict(standard()), definition_from_dict(standard()))
    assert diff.is_empty
    assert definition_diff_text(diff) == "no differences"


def test_a_redesign_shows_steps_added_removed_and_what_changed_in_the_others():
    new = standard()
    new["version"] = 2
    steps = {s["id"]: s for s in new["steps"]}
    steps["inspect"]["deadline_days"] = 3
    steps["inspect"]["role"] = "clerk"
    steps["inspect"]["outcomes"] = [{"outcome": "done", "to": "pay"}]
    new["steps"] = [s for s in new["steps"] if s["id"] != "archive_copy"]
    new["steps"].insert(
        3,
        {
            "id": "notify",
            "title": {"fa": "اطلاع‌رسانی"},
            "role": "clerk",
            "kind": "automatic",
            "action": "notify",
            "deadline_days": 0,
            "outcomes": [{"outcome": "done", "to": "issued"}],
        },
    )
    steps["pay"]["outcomes"] = [{"outcome": "done", "to": "notify"}]
    photo = {"id": "photo", "title": {"fa": "عکس"}, "formats": ["jpg"], "step": "receive"}
    new["documents"] = [new["documents"][0], photo]
    new["fees"][0]["amount"] = "2000"

    diff = definition_diff(definition_from_dict(standard()), definition_from_dict(new))

    assert diff.steps.added == ["notify"]
    assert diff.steps.removed == ["archive_copy"]
    assert [c.attribute for c in diff.steps.changed["inspect"]] == ["role", "deadline_days", "outcomes"]
    assert [c.attribute for c in diff.steps.changed["pay"]] == ["outcomes"]
    assert "receive" not in diff.steps.changed
    assert (diff.documents.added, diff.documents.removed) == (["photo"], ["map"])
    assert list(diff.fees.changed) == ["fee"] and diff.fees.changed["fee"][0].attribute == "amount"
    assert diff.metrics_delta["discretionary"] == -1
    assert diff.metrics_delta["longest_path_days"] == 8 - 11

    text = definition_diff_text(diff)
    assert "steps: +1 −1 ~2" in text
    assert "  - archive_copy  Archive a copy (clerk, review, 1 d, discretionary)" in text
    assert (
        "  ~ inspect: role: inspector → clerk; deadline_days: 5 → 3; outcomes: done→archive_copy → done→pay"
        in text
    )
    assert "Longest path (working days): 11 → 8 (-3)" in text


def test_version_numbers_and_status_are_not_differences():
    new = standard() | {"version": 7, "status": "published"}
    assert definition_diff(definition_from_dict(standard()), definition_from_dict(new)).is_empty


def test_a_changed_title_of_the_service_is_listed_first():
    new = copy.deepcopy(standard())
    new["legal_deadline_days"] = 30
    diff = definition_diff(definition_from_dict(standard()), definition_from_dict(new))
    assert definition_diff_text(diff).splitlines()[0] == "~ legal_deadline_days: — → 30"


def test_a_variant_that_runs_the_standard_departs_zero():
    base = definition_from_dict(standard())
    departure = variant_departure(base, definition_from_dict(standard()))
    assert departure.score == 0
    assert (departure.steps_added, departure.steps_removed, departure.steps_changed) == (0, 0, 0)


def test_a_variant_departs_by_its_share_of_added_removed_and_changed_work_steps():
    variant = standard()
    steps = {s["id"]: s for s in variant["steps"]}
    steps["inspect"]["deadline_days"] = 10
    steps["inspect"]["outcomes"] = [{"outcome": "done", "to": "deputy_signature"}]
    variant["steps"].insert(
        2,
        {
            "id": "deputy_signature",
            "role": "signatory",
            "kind": "signature",
            "deadline_days": 5,
            "discretionary": True,
            "outcomes": [{"outcome": "approve", "to": "archive_copy"}],
        },
    )
    departure = variant_departure(definition_from_dict(standard()), definition_from_dict(variant))
    # One step added and one changed out of the standard's four work steps.
    assert (departure.steps_added, departure.steps_removed, departure.steps_changed) == (1, 0, 1)
    assert departure.score == 50.0
    assert departure.metrics_delta["signatures"] == 1
    assert departure.metrics_delta["longest_path_days"] == 5 + 5


def test_the_departure_score_is_capped_at_one_hundred():
    variant = standard()
    for n in range(6):
        variant["steps"].append(
            {
                "id": f"extra_{n}",
                "role": "clerk",
                "kind": "review",
                "deadline_days": 1,
                "outcomes": [{"outcome": "done", "to": "issued"}],
            }
        )
    assert variant_departure(definition_from_dict(standard()), definition_from_dict(variant)).score == 100.0
