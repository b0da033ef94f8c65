import subprocess
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "pishkhan"
CATALOGUES = sorted(PACKAGE.glob("**/locale/fa/LC_MESSAGES/django.po"))


def test_there_is_a_persian_catalogue_for_the_shell_and_each_app():
    owners = {path.relative_to(PACKAGE).parts[0] for path in CATALOGUES}
    assert {
        "locale",
        "core",
        "accounts",
        "offices",
        "catalog",
        "cases",
        "notifications",
        "payments",
        "api",
        "portal",
        "desk",
    } <= owners


@pytest.mark.parametrize("catalogue", CATALOGUES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_message_is_translated_to_persian(catalogue):
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(catalogue)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr, result.stderr
    assert "fuzzy" not in result.stderr, result.stderr
