"""The `pishkhan` command: one surface for running, seeding, checking and benchmarking a city.

Each sub-command is a Django management command of the same name, so `pishkhan serve` and
`python -m django serve --settings=pishkhan.settings` do the same thing; this module only sets
the settings module and prints a short, grouped help."""

import os
import sys

COMMANDS = {
    "serve": "Serve the site with a production WSGI server (--host, --port).",
    "demo": "Migrate, seed the demo city, print the demo sign-ins and serve it (--no-serve to stop after seeding).",
    "simulate": "Play a year of cases with the engine's rules: `pishkhan simulate --service CODE --cases N --seed S`.",
    "bench": "Benchmarks against a baseline measured in the same run: `pishkhan bench engine|sweep|simulate [--json]`.",
    "worker": "Run the background work: queued tasks, SMS and email, the deadline sweep (--once: one round).",
    "migrate": "Create or update the database tables.",
    "check": "Check the configuration (add --deploy under production settings).",
    "audit": "Audit log tools: `pishkhan audit verify` checks the hash chain.",
    "catalog": "The process bank: validate, list, show, compare, import, export, load.",
    "totp": "Print the current authenticator code of a demo staff or operator account.",
    "manage": "Run any other Django management command, e.g. `pishkhan manage createsuperuser`.",
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = ["usage: pishkhan COMMAND [options]", "", "commands:"]
    lines += [f"  {name.ljust(width)}  {text}" for name, text in COMMANDS.items()]
    lines += ["", "`pishkhan COMMAND --help` explains a command's options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pishkhan.settings")
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(usage())
        return 0
    command, rest = argv[0], argv[1:]
    if command == "manage":
        if not rest:
            print("usage: pishkhan manage DJANGO_COMMAND [options]", file=sys.stderr)
            return 2
        command, rest = rest[0], rest[1:]
    elif command not in COMMANDS:
        print(f"pishkhan: unknown command {command!r}\n\n{usage()}", file=sys.stderr)
        return 2

    from django.conf import settings
    from django.core.management import execute_from_command_line

    # The embedded database and uploads live in the data folder; create it on first use rather
    # than on every settings import (which would litter whatever folder a tool runs in).
    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    execute_from_command_line(["pishkhan", command, *rest])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
