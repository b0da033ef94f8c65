import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from pishkhan import cli
from pishkhan.catalog import selectors
from pishkhan.catalog.bank import bank_load
from pishkhan.catalog.definition import definition_to_dict
from pishkhan.catalog.loader import load_definition_text
from pishkhan.catalog.models import ProcessVersion
from pishkhan.catalog.services import variant_set

from .catalog_factories import BANK, DATA, SIGN_PERMIT_V1, make_district

ROOT = Path(__file__).resolve().parents[2]
PISHKHAN = Path(sys.executable).parent / "pishkhan"


@pytest.fixture
def loaded(db):
    make_district("d07", 7)
    report = bank_load(directory=BANK)
    assert report.ok, report.lines()


def catalog(capsys, *args) -> str:
    call_command("catalog", *args)
    return capsys.readouterr().out


def test_the_catalog_command_is_listed_in_the_pishkhan_help(capsys):
    assert cli.main(["--help"]) == 0
    assert "  catalog" in capsys.readouterr().out


def test_catalog_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["catalog", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for name in ("validate", "list", "show", "compare", "import", "export", "load"):
        assert name in out


def test_list_prints_one_published_service_a_line_code_then_title(loaded, capsys):
    assert catalog(capsys, "list") == "sign-permit\tمجوز نصب تابلو\n"


def test_list_all_includes_services_that_only_have_drafts(loaded, capsys):
    call_command("catalog", "import", str(DATA / "only-draft.yaml"))
    capsys.readouterr()
    assert catalog(capsys, "list").splitlines() == ["sign-permit\tمجوز نصب تابلو"]
    assert catalog(capsys, "list", "--all").splitlines() == [
        "kiosk-permit\tمجوز کیوسک",
        "sign-permit\tمجوز نصب تابلو",
    ]


def test_show_prints_the_as_is_and_the_redesign_side_by_side(loaded, capsys):
    out = catalog(capsys, "show", "sign-permit")
    lines = out.splitlines()

    assert lines[0] == "sign-permit  مجوز نصب تابلو / Shop sign permit"
    assert "versions: v1 published, v2 draft" in lines
    assert "deadlines (v1, working days): legal 30, service norm 15, longest path 16" in lines
    assert "  metric                       v1 published  v2 draft  v2 − v1" in lines
    assert "  Steps                                   6         4       -2" in lines
    assert "  Discretionary steps                     2         0       -2" in lines
    assert "  Signatures                              1         0       -1" in lines
    assert "  Documents asked                         2         1       -1" in lines
    assert "  Longest path (working days)            16         9       -7" in lines


def test_show_lists_each_district_variant_with_its_departure(loaded, capsys):
    out = catalog(capsys, "show", "sign-permit")
    variant_line = next(line for line in out.splitlines() if line.startswith("  v1 d07"))
    # One step added (second inspection) and one changed (inspect) of the standard's six.
    assert "departure 33.3%" in variant_line
    assert "steps +1 −0 ~1" in variant_line
    assert "longest path days +10" in variant_line


def test_show_for_a_district_prints_the_standard_and_the_variant_side_by_side(loaded, capsys):
    out = catalog(capsys, "show", "sign-permit", "--district", "d07")
    assert "as district d07 runs v1 (منطقه 7):" in out
    assert "  + second_inspection  Second inspection (inspector, inspection, 5 d, discretionary)" in out


def test_show_a_single_version(loaded, capsys):
    out = catalog(capsys, "show", "sign-permit", "--version", "2")
    assert "reform metrics:" in out and "v2 − v1" not in out


def test_show_an_unknown_service_says_how_to_find_the_codes(db):
    with pytest.raises(CommandError, match="catalog list --all"):
        call_command("catalog", "show", "no-such-service")


def test_compare_two_versions_prints_metrics_and_changes(loaded, capsys):
    out = catalog(capsys, "compare", "sign-permit@1", "sign-permit@2")
    assert "sign-permit@2 − sign-permit@1" in out.splitlines()[0]
    assert "changes from sign-permit@1 to sign-permit@2:" in out
    assert "  - deputy_signature  Deputy's signature (signatory, signature, 4 d, discretionary)" in out


def test_compare_a_version_with_a_district_variant(loaded, capsys):
    out = catalog(capsys, "compare", "sign-permit@1", "sign-permit@1:d07")
    assert "steps: +1 −0 ~1" in out
    assert "  ~ inspect: deadline_days: 5 → 10; outcomes: done→reviews_done → done→second_inspection" in out


def test_compare_refuses_a_malformed_spec(loaded):
    with pytest.raises(CommandError, match="CODE@VERSION"):
        call_command("catalog", "compare", "Sign Permit", "sign-permit@2")


def test_export_yaml_reads_back_to_the_stored_body(loaded, capsys):
    text = catalog(capsys, "export", "sign-permit", "--format", "yaml")
    assert "title:\n  fa: مجوز نصب تابلو\n" in text  # Persian as is, block style

    loaded_back = load_definition_text(text, filename="export.yaml")
    assert loaded_back.ok, [str(p) for p in loaded_back.problems]
    assert loaded_back.data["status"] == "published"
    body = definition_to_dict(loaded_back.definition)
    body.pop("status")
    assert body == selectors.version_get("sign-permit", 1).body


def test_export_to_a_file_and_import_it_again_as_the_next_draft(loaded, capsys, tmp_path):
    target = tmp_path / "sign-permit.yaml"
    call_command("catalog", "export", "sign-permit", "--version", "2", "-o", str(target))
    call_command("catalog", "import", str(target))
    out = capsys.readouterr().out
    assert "imported sign-permit v3 as a draft (yaml)" in out
    assert "steps found (4): receive, inspect, pay, issue" in out
    assert "roles found (2): clerk, inspector" in out
    copied, original = (
        selectors.version_get("sign-permit", 3).body,
        selectors.version_get("sign-permit", 2).body,
    )
    assert copied == {**original, "version": 3}


def test_export_a_district_variant(loaded, capsys):
    text = catalog(capsys, "export", "sign-permit", "--district", "d07")
    assert "id: second_inspection" in text


def test_import_of_an_invalid_file_prints_its_problems_and_fails(db, capsys):
    with pytest.raises(CommandError) as failed:
        call_command("catalog", "import", str(DATA / "broken.yaml"))
    assert failed.value.returncode == 1
    assert "broken.yaml:13: steps[0].outcomes[0].to:" in capsys.readouterr().out
    assert not ProcessVersion.objects.exists()


def test_load_prints_its_report_and_is_idempotent(db, capsys):
    call_command("catalog", "load", "--dir", str(BANK))
    first = capsys.readouterr().out
    assert "created   sign-permit v1 (published)" in first
    assert "skipped   bank/variants/sign-permit.d07.yaml: district d07 does not exist in this city" in first
    call_command("catalog", "load", "--dir", str(BANK))
    assert "0 created" in capsys.readouterr().out.splitlines()[-1]


def test_validate_passes_good_files_and_fails_a_broken_one(capsys):
    call_command("catalog", "validate", str(BANK))
    assert capsys.readouterr().out.splitlines()[-1].startswith("OK: 0 error(s)")

    with pytest.raises(CommandError) as failed:
        call_command("catalog", "validate", str(DATA / "broken.yaml"))
    assert failed.value.returncode == 1
    assert "error: " in capsys.readouterr().out


def pishkhan(*args, data_dir):
    # The installed `pishkhan` script of this virtualenv with fixed arguments: no untrusted input.
    env = {**os.environ, "PISHKHAN_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "pishkhan.settings"}
    return subprocess.run(
        [str(PISHKHAN), *args], capture_output=True, text=True, env=env, cwd=ROOT, check=False
    )


def test_validate_exits_1_through_the_pishkhan_command_when_a_file_has_an_error(tmp_path):
    broken = pishkhan("catalog", "validate", str(DATA / "broken.yaml"), data_dir=tmp_path)
    assert broken.returncode == 1, broken.stderr
    assert "broken.yaml:13:" in broken.stdout
    assert "1 error(s)" in broken.stderr

    good = pishkhan("catalog", "validate", str(SIGN_PERMIT_V1), data_dir=tmp_path)
    assert good.returncode == 0, good.stdout + good.stderr


def test_a_variant_set_later_shows_up_in_show(loaded, capsys):
    version = selectors.version_get("sign-permit", 1)
    variant_set(version=version, district=make_district("d01", 1), patch={"remove_steps": []}, by=None)
    out = catalog(capsys, "show", "sign-permit")
    assert "  v1 d01  departure 0%  steps +0 −0 ~0  منطقه 1" in out.splitlines()


def test_load_gives_the_city_the_roles_its_processes_declare(db, capsys):
    from pishkhan.accounts.models import Role

    bank = str(ROOT / "processes")
    out = catalog(capsys, "load", "--dir", bank)
    assert "role      excavation_coordinator" in out
    assert Role.objects.filter(code="excavation_coordinator").exists()
    assert not Role.objects.filter(code="applicant").exists()  # the applicant is no staff role
    assert "role " not in catalog(capsys, "load", "--dir", bank)  # nothing new the second time
