import pytest
from django.core.management import call_command

from pishkhan import cli


def test_help_lists_every_command(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("serve", "demo", "migrate", "check", "audit", "manage"):
        assert f"  {command}" in out


def test_an_unknown_command_says_so_and_exits_2(capsys):
    assert cli.main(["serv"]) == 2
    assert "unknown command 'serv'" in capsys.readouterr().err


def test_serve_explains_host_and_port(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["serve", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "--host" in out and "--port" in out


def test_serve_refuses_a_port_out_of_range():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="between 1 and 65535"):
        call_command("serve", port=70000)
