import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

from pishkhan.catalog import selectors
from pishkhan.catalog.bank import bank_dir, bank_load
from pishkhan.catalog.models import DistrictVariant, ProcessVersion, Service, VersionStatus
from pishkhan.catalog.services import version_new_draft_from
from pishkhan.core.audit import audit_events

from .catalog_factories import BANK, make_district

pytestmark = pytest.mark.django_db

REAL_BANK = Path(__file__).resolve().parents[2] / "processes"


@pytest.fixture
def bank(tmp_path):
    """A copy of the small test bank that a test may change."""
    return Path(shutil.copytree(BANK, tmp_path / "processes"))


def counts():
    return (Service.objects.count(), ProcessVersion.objects.count(), DistrictVariant.objects.count())


def test_the_bank_folder_comes_from_the_settings(settings, tmp_path):
    settings.PROCESS_BANK_DIR = tmp_path
    assert bank_dir() == tmp_path


def test_loading_the_bank_creates_each_version_with_the_status_its_file_gives(bank):
    make_district("d07", 7)
    report = bank_load(directory=bank)

    assert report.ok, report.lines()
    v1, v2 = selectors.version_list(selectors.service_get("sign-permit"))
    assert (v1.status, v2.status) == (VersionStatus.PUBLISHED, VersionStatus.DRAFT)
    assert v1.source.startswith("# A small process")
    # Publishing from the bank is audited too; nobody holds the roles yet, which is a warning.
    event = audit_events(action="process.published").get()
    assert event.actor is None and event.actor_label == "process bank"
    assert {p.path for p in report.warnings} == {"clerk", "inspector", "manager", "signatory"}
    assert [v.district.code for v in selectors.variant_list(v1)] == ["d07"]
    # d99 does not exist in this city: skipped, with a line saying so.
    assert any("d99 does not exist" in line for line in report.skipped)


def test_loading_the_bank_twice_changes_nothing(bank):
    make_district("d07", 7)
    bank_load(directory=bank)
    before = counts()

    report = bank_load(directory=bank)

    assert counts() == before
    assert report.created == [] and report.variants_set == []
    assert len(report.unchanged) == 2 and len(report.variants_unchanged) == 1
    assert audit_events(action="process.published").count() == 1
    assert report.lines()[-1].startswith("0 created, 0 updated, 0 published, 2 unchanged, 0 conflict(s)")


def test_a_changed_file_of_a_published_version_is_a_conflict_and_the_version_is_left_alone(bank):
    bank_load(directory=bank)
    v1 = selectors.version_get("sign-permit", 1)
    path = bank / "sign-permit.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("deadline_days: 5", "deadline_days: 4"), encoding="utf-8"
    )

    report = bank_load(directory=bank)

    assert not report.ok
    assert report.conflicts and "sign-permit v1 is published and never changes" in report.conflicts[0]
    assert selectors.version_get("sign-permit", 1).body == v1.body


def test_a_changed_file_of_a_draft_updates_the_draft_and_a_file_that_says_published_publishes_it(bank):
    bank_load(directory=bank)
    path = bank / "sign-permit.v2.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("service_norm_days: 7", "service_norm_days: 6"),
        encoding="utf-8",
    )
    report = bank_load(directory=bank)
    assert report.updated == ["sign-permit v2 (draft)  processes/sign-permit.v2.yaml"]
    assert selectors.version_get("sign-permit", 2).body["service_norm_days"] == 6

    path.write_text(
        path.read_text(encoding="utf-8").replace("status: draft", "status: published"), encoding="utf-8"
    )
    report = bank_load(directory=bank)
    assert report.published == ["sign-permit v2"]
    assert selectors.version_get("sign-permit", 1).status == VersionStatus.RETIRED
    assert selectors.version_get("sign-permit", 2).status == VersionStatus.PUBLISHED


def test_a_draft_made_in_the_city_under_a_number_the_bank_does_not_have_is_not_touched(bank):
    bank_load(directory=bank)
    draft = version_new_draft_from(version=selectors.version_get("sign-permit", 2), by=None)
    bank_load(directory=bank)
    assert ProcessVersion.objects.get(pk=draft.pk).body == draft.body


def test_an_invalid_file_is_reported_and_the_others_still_load(bank):
    (bank / "broken.yaml").write_text(
        (BANK.parent / "broken.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    report = bank_load(directory=bank)
    assert not report.ok
    assert any(p.file == "processes/broken.yaml" and p.line == 13 for p in report.problems)
    assert selectors.version_get("sign-permit", 1) is not None
    assert not Service.objects.filter(code="broken-permit").exists()


def test_a_missing_bank_folder_is_reported_not_raised(tmp_path):
    report = bank_load(directory=tmp_path / "nowhere")
    assert report.skipped and counts() == (0, 0, 0)


def test_the_real_bank_loads_and_shows_the_building_permit_as_is_and_redesigned_side_by_side(capsys):
    if (
        not (REAL_BANK / "building-permit.yaml").is_file()
        or not (REAL_BANK / "building-permit.v2.yaml").is_file()
    ):
        pytest.skip("the building permit is not in processes/ yet")
    report = bank_load(directory=REAL_BANK)
    assert not report.conflicts and not [p for p in report.problems if p.severity == "error"], report.lines()

    call_command("catalog", "show", "building-permit")
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.strip().startswith("metric"))
    assert "v1 " in header and "v2 " in header
    steps = next(line for line in out.splitlines() if line.strip().startswith("Steps "))
    as_is, redesign = (int(n) for n in steps.split()[1:3])
    assert as_is > 100 and redesign < 70
