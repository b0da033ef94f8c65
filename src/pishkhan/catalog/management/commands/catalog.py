"""`pishkhan catalog …`: the process bank at the command line.

    validate PATH…        check definition and variant files; exit 1 when any has an error
    list [--all]          one service a line: code, a tab, the Persian title
    show CODE             header, reform metrics; every version side by side; district variants
    compare A B           two versions or variants side by side, and what changed
    import FILE           a YAML or BPMN file as a new draft
    export CODE           a version as YAML or BPMN
    load [--dir DIR]      load the bank folder (idempotent)

Refusals are raised as CommandError(returncode=1) after the problems are printed: from the command
line Django turns that into exit status 1 with the message on stderr, and call_command callers
(tests, the demo) get the exception.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from pishkhan.catalog import selectors
from pishkhan.catalog.bank import bank_load, definition_yaml, format_problem
from pishkhan.catalog.definition import Definition
from pishkhan.catalog.diff import (
    definition_diff,
    definition_diff_text,
    format_number,
    signed,
    variant_departure,
)
from pishkhan.catalog.metrics import METRIC_LABELS, Metrics, definition_metrics
from pishkhan.catalog.models import ProcessVersion
from pishkhan.catalog.services import (
    CatalogError,
    roles_ensure_from_definitions,
    source_parse,
    version_import,
)

# CODE, CODE@N, CODE:DISTRICT or CODE@N:DISTRICT
_SPEC = re.compile(r"(?P<code>[a-z][a-z0-9-]*)(?:@(?P<number>\d+))?(?::(?P<district>[A-Za-z0-9_-]+))?")


class Command(BaseCommand):
    help = (
        "The process bank: validate definition files, list the services, show a service's reform "
        "metrics (every version side by side), compare two versions or variants, import YAML or "
        "BPMN as a draft, export YAML or BPMN, load the bank folder."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)

        validate = sub.add_parser(
            "validate",
            help="Check definition and variant files.",
            description=(
                "Check YAML definition files (and folders of them, variants included) against the "
                "format. Prints each problem as `file:line: path: message (hint)` and a summary; "
                "exits 1 when any error is found, 0 when there are only warnings or none."
            ),
        )
        validate.add_argument("paths", nargs="+", metavar="PATH", help="Files or folders.")

        listing = sub.add_parser(
            "list",
            help="One service a line: code, then title.",
            description="Print one published service a line: its code, a tab and its Persian title, by code.",
        )
        listing.add_argument("--all", action="store_true", help="Also services that only have drafts.")

        show = sub.add_parser(
            "show",
            help="A service's header and reform metrics, every version side by side.",
            description=(
                "Print a service's header (titles, status, department, channels, legal deadline "
                "against the service norm) and its reform metrics. When it has more than one "
                "version, the versions are printed side by side with the difference between the "
                "published one and the newest other; then each district variant with its departure "
                "from the standard."
            ),
        )
        show.add_argument("code", metavar="CODE")
        show.add_argument("--version", type=int, metavar="N", help="Only this version.")
        show.add_argument("--district", metavar="dNN", help="The definition as this district runs it.")

        compare = sub.add_parser(
            "compare",
            help="Two versions or variants side by side.",
            description=(
                "Print the reform metrics of A and B side by side (with B − A) and what changed "
                "from A to B. A and B are CODE@VERSION or CODE@VERSION:DISTRICT (a district "
                "variant); CODE alone is the current version, e.g. `compare building-permit@1 "
                "building-permit@2`."
            ),
        )
        compare.add_argument("a", metavar="A")
        compare.add_argument("b", metavar="B")

        importing = sub.add_parser(
            "import",
            help="A YAML or BPMN file as a new draft.",
            description=(
                "Import a YAML or BPMN (.bpmn/.xml) file as a new draft of its service, creating the "
                "service if new. Prints the steps and roles found and what could not be mapped; "
                "exits 1 with the problems when the file has errors (nothing is imported then)."
            ),
        )
        importing.add_argument("file", metavar="FILE")

        export = sub.add_parser(
            "export",
            help="A version as YAML or BPMN.",
            description="Write a version's definition as YAML (the bank's format) or BPMN 2.0 with diagram.",
        )
        export.add_argument("code", metavar="CODE")
        export.add_argument(
            "--version", type=int, metavar="N", help="Default: the current version, else the newest."
        )
        export.add_argument(
            "--district", metavar="dNN", help="The definition with this district's variant applied."
        )
        export.add_argument("--format", choices=["yaml", "bpmn"], default="yaml", help="Default: yaml.")
        export.add_argument("-o", "--output", metavar="FILE", help="Write here instead of standard output.")

        load = sub.add_parser(
            "load",
            help="Load the bank folder into the database.",
            description=(
                "Load every definition and variant of the bank folder (PISHKHAN_PROCESS_BANK_DIR, or "
                "--dir). Safe to repeat: what is there already is left alone; a published version "
                "whose file changed is reported as a conflict, never modified. Exits 1 on conflicts "
                "or invalid files."
            ),
        )
        load.add_argument("--dir", metavar="DIR", help="Another bank folder.")

    def handle(self, *args, subcommand, **options):
        getattr(self, f"do_{subcommand}")(**options)

    # --- subcommands --------------------------------------------------------------------------

    def do_validate(self, *, paths, **options):
        from pishkhan.catalog.validation import validate_paths

        problems = validate_paths([Path(p) for p in paths])
        for problem in problems:
            style = self.style.ERROR if problem.severity == "error" else self.style.WARNING
            self.stdout.write(style(f"{problem.severity}: {format_problem(problem)}"))
        errors = sum(1 for p in problems if p.severity == "error")
        warnings = len(problems) - errors
        summary = f"{errors} error(s), {warnings} warning(s) in {', '.join(paths)}"
        if errors:
            raise CommandError(summary, returncode=1)
        self.stdout.write(self.style.SUCCESS(f"OK: {summary}"))

    def do_list(self, *, all=False, **options):
        for service in selectors.service_list(include_drafts=all):
            self.stdout.write(f"{service.code}\t{service.title_fa}")

    def do_show(self, *, code, version=None, district=None, **options):
        service = self._service(code)
        versions = list(selectors.version_list(service))
        if not versions:
            raise CommandError(f"`{code}` has no versions.", returncode=1)
        if version is not None:
            versions = [self._version(code, version)]
        current = selectors.version_current(service)
        shown = current if current in versions else versions[-1]
        definition = selectors.version_definition(shown)
        self._header(service, shown, definition, all_versions=list(selectors.version_list(service)))

        if district is not None:
            variant = self._variant(shown, district)
            variant_def = selectors.variant_definition(variant)
            self.stdout.write("")
            self.stdout.write(f"as district {district} runs v{shown.number} ({variant.district.name_fa}):")
            self._metrics_table(
                [
                    (f"v{shown.number} standard", definition_metrics(definition)),
                    (district, definition_metrics(variant_def)),
                ]
            )
            self.stdout.write("")
            self.stdout.write(definition_diff_text(definition_diff(definition, variant_def)))
            return

        self.stdout.write("")
        if len(versions) == 1:
            self.stdout.write("reform metrics:")
            self._metrics_table([(f"v{shown.number} {shown.status}", definition_metrics(definition))])
        else:
            self.stdout.write("reform metrics, every version side by side:")
            columns = [
                (f"v{v.number} {v.status}", definition_metrics(selectors.version_definition(v)))
                for v in versions
            ]
            # The delta compares what runs today with the newest other version (usually its
            # redesign); with nothing published yet, the oldest with the newest.
            base = current if current in versions else versions[0]
            other = [v for v in versions if v.pk != base.pk][-1]
            delta = (versions.index(base), versions.index(other))
            self._metrics_table(columns, delta=delta, delta_label=f"v{other.number} − v{base.number}")
        roles = definition_metrics(definition).roles_used
        self.stdout.write(f"roles (v{shown.number}): {', '.join(roles) or '—'}")
        self._variants_section(versions)

    def do_compare(self, *, a, b, **options):
        label_a, def_a = self._resolve(a)
        label_b, def_b = self._resolve(b)
        self._metrics_table(
            [(label_a, definition_metrics(def_a)), (label_b, definition_metrics(def_b))],
            delta=(0, 1),
            delta_label=f"{label_b} − {label_a}",
        )
        self.stdout.write("")
        self.stdout.write(f"changes from {label_a} to {label_b}:")
        self.stdout.write(definition_diff_text(definition_diff(def_a, def_b)))

    def do_import(self, *, file, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file", returncode=1)
        source = path.read_bytes()
        parsed = source_parse(source=source, filename=path.name)
        try:
            version = version_import(source=source, filename=path.name, parsed=parsed)
        except CatalogError as error:
            for problem in error.problems:
                style = self.style.ERROR if problem.severity == "error" else self.style.WARNING
                self.stdout.write(style(f"{problem.severity}: {format_problem(problem)}"))
            raise CommandError(str(error), returncode=1) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"imported {version.service.code} v{version.number} as a draft ({parsed.format}); "
                f"`pishkhan catalog show {version.service.code}` compares it"
            )
        )
        self.stdout.write(
            f"steps found ({len(parsed.steps_found)}): {', '.join(map(str, parsed.steps_found))}"
        )
        self.stdout.write(
            f"roles found ({len(parsed.roles_found)}): {', '.join(map(str, parsed.roles_found))}"
        )
        if parsed.unmapped:
            self.stdout.write(self.style.WARNING(f"not mapped ({len(parsed.unmapped)}):"))
            for item in parsed.unmapped:
                self.stdout.write(f"  {item}")
        else:
            self.stdout.write("not mapped: nothing")
        for problem in parsed.problems:
            self.stdout.write(self.style.WARNING(f"warning: {format_problem(problem)}"))

    def do_export(self, *, code, version=None, district=None, format="yaml", output=None, **options):
        service = self._service(code)
        if version is not None:
            chosen = self._version(code, version)
        else:
            chosen = selectors.version_current(service) or selectors.version_list(service).last()
            if chosen is None:
                raise CommandError(f"`{code}` has no versions.", returncode=1)
        definition = (
            selectors.variant_definition(self._variant(chosen, district))
            if district
            else selectors.version_definition(chosen)
        )
        if format == "bpmn":
            from pishkhan.catalog.bpmn import bpmn_export

            text = bpmn_export(definition)
        else:
            text = definition_yaml(definition)
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stdout.write(f"wrote {code} v{chosen.number} as {format} to {output}")
        else:
            self.stdout.write(text, ending="" if text.endswith("\n") else "\n")

    def do_load(self, *, dir=None, **options):
        report = bank_load(directory=dir)
        for line in report.lines():
            self.stdout.write(line)
        # The roles the published definitions declare, so districts can bind people to them.
        for role in roles_ensure_from_definitions():
            self.stdout.write(f"role      {role.code} ({role.name_fa})")
        if not report.ok:
            raise CommandError("the bank was not loaded cleanly; see the lines above", returncode=1)

    # --- helpers ------------------------------------------------------------------------------

    def _service(self, code):
        service = selectors.service_get(code)
        if service is None:
            raise CommandError(
                f"No service has the code `{code}`; `pishkhan catalog list --all` lists them.", returncode=1
            )
        return service

    def _version(self, code, number) -> ProcessVersion:
        version = selectors.version_get(code, number)
        if version is None:
            raise CommandError(f"`{code}` has no version {number}.", returncode=1)
        return version

    def _variant(self, version, district):
        variant = selectors.variant_get(version, district)
        if variant is None:
            known = ", ".join(v.district.code for v in selectors.variant_list(version)) or "none"
            raise CommandError(
                f"District {district} has no variant of {version.service.code} v{version.number} "
                f"(variants: {known}).",
                returncode=1,
            )
        return variant

    def _resolve(self, spec) -> tuple[str, Definition]:
        match = _SPEC.fullmatch(spec)
        if not match:
            raise CommandError(f"{spec!r}: write CODE@VERSION or CODE@VERSION:DISTRICT", returncode=1)
        service = self._service(match["code"])
        if match["number"]:
            version = self._version(match["code"], int(match["number"]))
        else:
            version = selectors.version_current(service) or selectors.version_list(service).last()
            if version is None:
                raise CommandError(f"`{service.code}` has no versions.", returncode=1)
        label = f"{service.code}@{version.number}"
        if match["district"]:
            return f"{label}:{match['district']}", selectors.variant_definition(
                self._variant(version, match["district"])
            )
        return label, selectors.version_definition(version)

    def _header(self, service, shown, definition: Definition, *, all_versions):
        title = (
            f"{definition.title.fa} / {definition.title.en}" if definition.title.en else definition.title.fa
        )
        self.stdout.write(f"{service.code}  {title}")
        statuses = ", ".join(f"v{v.number} {v.status}" for v in all_versions)
        self.stdout.write(f"versions: {statuses}")
        if service.department:
            self.stdout.write(f"department: {service.department.code}  {service.department.name_fa}")
        elif definition.department:
            self.stdout.write(f"department: {definition.department}")
        if definition.category:
            self.stdout.write(f"category: {definition.category}")
        self.stdout.write(f"channels: {', '.join(definition.channels) or '—'}")
        longest = definition_metrics(definition).longest_path_days
        self.stdout.write(f"deadlines (v{shown.number}, working days): {_deadlines(definition, longest)}")

    def _metrics_table(self, columns: list[tuple[str, Metrics]], *, delta=None, delta_label=""):
        headers = ["metric", *(label for label, _ in columns)]
        rows = []
        for name, label in METRIC_LABELS.items():
            row = [str(label), *(format_number(m.value(name)) for _, m in columns)]
            if delta is not None:
                old, new = columns[delta[0]][1].value(name), columns[delta[1]][1].value(name)
                row.append(signed(new - old))
            rows.append(row)
        if delta is not None:
            headers.append(delta_label)
        widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
        for row in [headers, *rows]:
            cells = [row[0].ljust(widths[0])] + [str(c).rjust(widths[i + 1]) for i, c in enumerate(row[1:])]
            self.stdout.write("  " + "  ".join(cells).rstrip())

    def _variants_section(self, versions):
        lines = []
        for version in versions:
            variants = list(selectors.variant_list(version))
            if not variants:
                continue
            standard = selectors.version_definition(version)
            for variant in variants:
                departure = variant_departure(standard, selectors.variant_definition(variant))
                moved = ", ".join(
                    f"{name.replace('_', ' ')} {signed(delta)}"
                    for name, delta in departure.metrics_delta.items()
                    if delta
                )
                lines.append(
                    f"  v{version.number} {variant.district.code}  "
                    f"departure {format_number(departure.score)}%  "
                    f"steps +{departure.steps_added} −{departure.steps_removed} ~{departure.steps_changed}"
                    + (f"  ({moved})" if moved else "")
                    + f"  {variant.district.name_fa}"
                )
        self.stdout.write("")
        if lines:
            self.stdout.write(
                "district variants (departure: share of the standard's steps added, removed or changed):"
            )
            for line in lines:
                self.stdout.write(line)
        else:
            self.stdout.write("district variants: none; every district runs the standard")


def _deadlines(definition: Definition, longest: float) -> str:
    parts = []
    if definition.legal_deadline_days is not None:
        parts.append(f"legal {format_number(definition.legal_deadline_days)}")
    if definition.service_norm_days is not None:
        parts.append(f"service norm {format_number(definition.service_norm_days)}")
    parts.append(f"longest path {format_number(longest)}")
    text = ", ".join(parts)
    legal = definition.legal_deadline_days
    if legal is not None and longest > legal:
        text += f" — the longest path exceeds the legal deadline by {format_number(longest - legal)}"
    return text
