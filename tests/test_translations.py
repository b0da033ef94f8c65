import ast
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "pishkhan"
CATALOGUES = sorted(PACKAGE.glob("**/locale/fa/LC_MESSAGES/django.po"))
# The apps that keep their own catalogue. Everything else in the package (settings.py, the shared
# templates/, and apps without a catalogue of their own such as demo) belongs to the shell's
# catalogue, src/pishkhan/locale/.
APPS_WITH_CATALOGUES = sorted(
    path.relative_to(PACKAGE).parts[0]
    for path in CATALOGUES
    if path.relative_to(PACKAGE).parts[0] != "locale"
)


def _catalogue_id(path):
    return str(path.relative_to(PACKAGE))


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


@pytest.mark.parametrize("catalogue", CATALOGUES, ids=_catalogue_id)
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


def _po_entries(path):
    """The live (not obsolete) entries of a .po file, header left out, each as a dict with its
    msgid, source references, flags and translations."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry = {"refs": [], "flags": set(), "msgid": "", "msgstr": []}
        field = None
        for line in block.splitlines():
            if line.startswith("#~"):
                entry = None
                break
            if line.startswith("#:"):
                entry["refs"] += line[2:].split()
            elif line.startswith("#,"):
                entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                text = ast.literal_eval(line)
                if field == "msgstr":
                    entry["msgstr"][-1] += text
                elif field:
                    entry[field] += text
            else:
                keyword, _, value = line.partition(" ")
                text = ast.literal_eval(value)
                if keyword.startswith("msgstr"):
                    field = "msgstr"
                    entry["msgstr"].append(text)
                elif keyword in ("msgid", "msgctxt", "msgid_plural"):
                    field = keyword
                    entry[keyword] = text
        if entry is not None and entry["msgid"]:
            entries.append(entry)
    return entries


@pytest.fixture(scope="module")
def package_copy(tmp_path_factory):
    """A copy of the package to run makemessages in, so the real catalogues are never touched."""
    root = tmp_path_factory.mktemp("makemessages")
    shutil.copytree(
        PACKAGE, root / "pishkhan", ignore=shutil.ignore_patterns("__pycache__", "*.mo", "vendor")
    )
    (root / "data").mkdir()
    return root


@pytest.mark.parametrize("catalogue", CATALOGUES, ids=_catalogue_id)
def test_every_string_the_code_uses_is_in_the_catalogue_and_translated(catalogue, package_copy):
    """makemessages, run as a translator would (per app, and for the shell at the package's root
    with the apps left out), finds no message that is new, untranslated or fuzzy."""
    owner = catalogue.relative_to(PACKAGE).parts[0]
    copy = package_copy / "pishkhan"
    # -P: the app's folder is the working directory, and its modules (selectors.py, email.py, ...)
    # must not shadow the standard library's.
    command = [sys.executable, "-P", "-m", "django", "makemessages", "-l", "fa", "--no-obsolete"]
    if owner == "locale":
        cwd = copy
        # "app/?*" leaves out everything inside the app's folder but not templates/<app>/.
        command += [f"--ignore={app}/?*" for app in APPS_WITH_CATALOGUES] + ["--ignore=static/?*"]
    else:
        cwd = copy / owner
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "pishkhan.settings",
        "PISHKHAN_DATA_DIR": str(package_copy / "data"),
        # The copy's settings, so that LOCALE_PATHS points into the copy too.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(package_copy), os.environ.get("PYTHONPATH")])),
    }
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr

    problems = []
    for entry in _po_entries(cwd / "locale" / "fa" / "LC_MESSAGES" / "django.po"):
        if "fuzzy" in entry["flags"]:
            problem = "fuzzy"
        elif not all(entry["msgstr"]):
            problem = "untranslated"
        else:
            continue
        problems.append(f"{problem}: {entry['msgid']!r} ({' '.join(entry['refs'])})")
    assert not problems, (
        f"{len(problems)} message(s) of {_catalogue_id(catalogue)} need a Persian translation "
        f"(in src/{cwd.relative_to(package_copy)}: run "
        f"`DJANGO_SETTINGS_MODULE=pishkhan.settings {shlex.join(['python', *command[1:]])}`, translate, "
        "then compilemessages):\n" + "\n".join(problems)
    )
