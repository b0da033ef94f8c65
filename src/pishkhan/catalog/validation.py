"""Checking process definitions and district variants, with a located message and a hint for each
problem (docs/process-format.md is the reference).

The JSON Schema comes first (catalog.loader.schema_problems): the semantic checks run only on data
that passed it, so they can rely on its shape. They are, in the order they appear in a report:
duplicate ids; references to missing steps, documents and outputs ("did you mean"); unknown roles;
steps unreachable from `start` and steps with no way to an end; forks and joins that do not pair
up; expressions that do not compile or read fields that do not exist; fees collected at a step that
is not a payment step; documents asked by no step; and two warnings: a work step with no legal basis
that is not marked discretionary, and a longest path over the legal deadline.

Names in expressions (decided here, documented in docs/process-format.md): an expression reads the
top-level fields by id. A group is a map of its sub-fields, so `group.sub` is checked against the
group's fields when the group does not repeat; a repeatable group is a list of such maps, read with
size() and macros (`owners.all(o, o.share > 0)`). A sub-field's `visible_if` also sees its sibling
sub-fields by id.
"""

from __future__ import annotations

import copy
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils.translation import gettext_lazy as _

from .definition import END_KIND, STANDARD_ROLES, Definition, Field, Step, definition_from_dict
from .expressions import expression_check, expression_references
from .loader import (
    ERROR,
    PROCESS_SCHEMA,
    VARIANT_SCHEMA,
    WARNING,
    LineMap,
    LoadResult,
    Problem,
    did_you_mean,
    format_problems,
    join_path,
    load_definition_file,
    schema_problems,
)

DEFINITION_SUFFIXES = (".yaml", ".yml", ".bpmn")


@dataclass
class _Report:
    filename: str
    lines: LineMap
    problems: list[Problem] = field(default_factory=list)

    def add(self, path: str, message, hint="", *, severity: str = ERROR) -> None:
        self.problems.append(
            Problem(
                file=self.filename,
                line=self.lines.line(path),
                path=path,
                message=str(message),
                hint=str(hint),
                severity=severity,
            )
        )

    def warn(self, path: str, message, hint="") -> None:
        self.add(path, message, hint, severity=WARNING)


def _sorted(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.file, p.line is None, p.line or 0))


# -- the definition --------------------------------------------------------------------------------


def definition_validate(
    data: Any,
    *,
    filename: str = "",
    lines: LineMap | None = None,
    known_roles: set[str] | None = None,
) -> tuple[Definition | None, list[Problem]]:
    """Validate a process definition dict and build its Definition.

    Returns (definition, problems): the definition is None when the data did not pass the JSON
    Schema (then the problems are the schema's); otherwise the problems are those of the semantic
    checks, errors and warnings, sorted by line. Never raises."""
    lines = lines or LineMap()
    if not isinstance(data, dict):
        message = _("a definition must be a mapping of keys, not %(type)s") % {"type": type(data).__name__}
        return None, [Problem(file=filename, line=None, path="", message=str(message))]
    format_name, problems = format_problems(data, filename=filename, lines=lines)
    if format_name == VARIANT_SCHEMA:
        message = _("this is a district variant, not a process definition")
        hint = _("validate it with the standard process it patches")
        return None, [
            Problem(
                file=filename, line=lines.line("schema"), path="schema", message=str(message), hint=str(hint)
            )
        ]
    problems += schema_problems(data, format_name=PROCESS_SCHEMA, filename=filename, lines=lines)
    if problems:
        return None, _sorted(problems)
    try:
        definition = definition_from_dict(data)
    except Exception as error:  # the schema should make this impossible; a clean problem if it does not
        message = _("the definition could not be read (%(error)s)") % {"error": type(error).__name__}
        return None, [Problem(file=filename, line=None, path="", message=str(message))]
    report = _Report(filename=filename, lines=lines)
    try:
        _check_definition(definition, report=report, known_roles=set(known_roles or ()))
    except Exception as error:  # a bug in a check must not hide the others' results from the author
        report.add("", _("internal error in the validator (%(error)s)") % {"error": type(error).__name__})
    return definition, _sorted(report.problems)


def validate_definition(
    data: dict,
    *,
    filename: str = "",
    lines: LineMap | None = None,
    known_roles: set[str] | None = None,
) -> list[Problem]:
    """Every problem of a process definition dict: JSON Schema first, then (if it passed) the
    semantic checks of this module. `lines` locates problems in the source text; `known_roles` are
    role codes the city has besides the standard ones and those the file declares. Never raises."""
    return definition_validate(data, filename=filename, lines=lines, known_roles=known_roles)[1]


def _check_definition(d: Definition, *, report: _Report, known_roles: set[str]) -> None:
    steps = _unique_steps(d, report=report)
    _check_unique(report, "roles", [r.code for r in d.roles], _("role"))
    _check_unique(report, "documents", [doc.id for doc in d.documents], _("document"))
    _check_unique(report, "fees", [fee.id for fee in d.fees], _("fee"))
    _check_unique(report, "outputs", [o.id for o in d.outputs], _("output"))
    _check_fields_unique(report, "fields", d.fields)
    dangling = _check_references(d, steps=steps, report=report)
    _check_roles(d, report=report, known_roles=known_roles)
    if not dangling:
        # A reference to a missing step cuts the graph: every step behind it would be reported as
        # unreachable or stuck. Fix the references first; the flow is checked once they resolve.
        _check_graph(d, steps=steps, report=report)
        _check_gateways(d, steps=steps, report=report)
    _check_expressions(d, report=report)
    _check_fees(d, steps=steps, report=report)
    _check_documents(d, steps=steps, report=report)
    _check_outputs(d, report=report)
    _check_legal_basis(d, report=report)
    _check_deadlines(d, report=report)


def _unique_steps(d: Definition, *, report: _Report) -> dict[str, Step]:
    steps: dict[str, Step] = {}
    for index, step in enumerate(d.steps):
        if step.id in steps:
            report.add(
                f"steps[{index}].id",
                _("duplicate step id `%(id)s`") % {"id": step.id},
                _("step ids must be unique; rename one of them"),
            )
        else:
            steps[step.id] = step
    return steps


def _check_unique(report: _Report, path: str, ids: list[str], noun) -> None:
    seen: set[str] = set()
    for index, item_id in enumerate(ids):
        if item_id in seen:
            report.add(
                f"{path}[{index}]",
                _("duplicate %(noun)s id `%(id)s`") % {"noun": noun, "id": item_id},
                _("ids must be unique; rename one of them"),
            )
        seen.add(item_id)


def _check_fields_unique(report: _Report, path: str, fields: list[Field]) -> None:
    _check_unique(report, path, [f.id for f in fields], _("field"))
    for index, item in enumerate(fields):
        if item.fields:
            _check_fields_unique(report, f"{path}[{index}].fields", item.fields)


def _missing_step(report: _Report, path: str, target: str, steps: dict[str, Step], what) -> None:
    report.add(
        path,
        _("%(what)s `%(target)s`, which is not a step") % {"what": what, "target": target},
        did_you_mean(target, steps) or _("step ids: %(ids)s") % {"ids": ", ".join(list(steps)[:12])},
    )


def _check_references(d: Definition, *, steps: dict[str, Step], report: _Report) -> bool:
    """Report references to missing steps in the flow; True if there was any."""
    count = len(report.problems)
    if d.start not in steps:
        _missing_step(report, "start", d.start, steps, _("`start` names"))
    for index, step in enumerate(d.steps):
        base = f"steps[{index}]"
        for position, outcome in enumerate(step.outcomes):
            if outcome.to not in steps:
                what = _("outcome `%(outcome)s` of step `%(step)s` leads to") % {
                    "outcome": outcome.outcome,
                    "step": step.id,
                }
                _missing_step(report, f"{base}.outcomes[{position}].to", outcome.to, steps, what)
        for position, branch in enumerate(step.branches):
            if branch not in steps:
                what = _("fork `%(step)s` has a branch to") % {"step": step.id}
                _missing_step(report, f"{base}.branches[{position}]", branch, steps, what)
        if step.kind == "join":
            if step.join_of and step.join_of not in steps:
                what = _("join `%(step)s` names as its fork") % {"step": step.id}
                _missing_step(report, f"{base}.join_of", step.join_of, steps, what)
            if step.next and step.next not in steps:
                what = _("join `%(step)s` leads to") % {"step": step.id}
                _missing_step(report, f"{base}.next", step.next, steps, what)
    return len(report.problems) > count


def _check_roles(d: Definition, *, report: _Report, known_roles: set[str]) -> None:
    allowed = d.role_codes | known_roles
    for index, step in enumerate(d.steps):
        if step.role and step.role not in allowed:
            report.add(
                f"steps[{index}].role",
                _("step `%(step)s` names unknown role `%(role)s` (not standard, not declared under roles:)")
                % {"step": step.id, "role": step.role},
                did_you_mean(step.role, allowed)
                or _("declare it under `roles:` or use one of: %(roles)s")
                % {"roles": ", ".join(STANDARD_ROLES)},
            )


def _edges(step: Step, steps: dict[str, Step]) -> list[str]:
    return [target for target in step.successors() if target in steps]


def _reach(starts: Iterable[str], graph: dict[str, list[str]], *, stop: str | None = None) -> set[str]:
    """Ids reachable from `starts` (included) along `graph`, not going through `stop`."""
    seen: set[str] = set()
    queue = deque(s for s in starts if s != stop)
    while queue:
        node = queue.popleft()
        if node in seen:
            continue
        seen.add(node)
        queue.extend(n for n in graph.get(node, ()) if n not in seen and n != stop)
    return seen


def _check_graph(d: Definition, *, steps: dict[str, Step], report: _Report) -> None:
    index_of = {step.id: index for index, step in reversed(list(enumerate(d.steps)))}
    graph = {step_id: _edges(step, steps) for step_id, step in steps.items()}
    ends = [step_id for step_id, step in steps.items() if step.kind == END_KIND]
    if not ends:
        report.add(
            "steps",
            _("the process has no end step"),
            _("add a step of kind end, e.g. {id: issued, kind: end, result: approved}"),
        )
        return
    if d.start not in steps:
        return  # reported as a missing step; reachability would only repeat it for every step
    reachable = _reach([d.start], graph)
    reverse: dict[str, list[str]] = {step_id: [] for step_id in steps}
    for source, targets in graph.items():
        for target in targets:
            reverse[target].append(source)
    can_end = _reach(ends, reverse)
    for step_id in steps:
        path = f"steps[{index_of[step_id]}].id"
        if step_id not in reachable:
            report.add(
                path,
                _("step `%(step)s` is unreachable: no path from the start (`%(start)s`) leads to it")
                % {"step": step_id, "start": d.start},
                _("point an outcome to it, or remove it"),
            )
        elif step_id not in can_end:
            report.add(
                path,
                _("step `%(step)s` has no way to an end: every path from it goes round without finishing")
                % {"step": step_id},
                _("give it an outcome that leads on towards an end step"),
            )


def _check_gateways(d: Definition, *, steps: dict[str, Step], report: _Report) -> None:
    index_of = {step.id: index for index, step in reversed(list(enumerate(d.steps)))}
    graph = {step_id: _edges(step, steps) for step_id, step in steps.items()}
    joins_of: dict[str, list[Step]] = {}
    for index, step in enumerate(d.steps):
        if step.kind != "join" or step.join_of not in steps:
            continue
        fork = steps[step.join_of]
        if fork.kind != "fork":
            report.add(
                f"steps[{index}].join_of",
                _("join `%(step)s` names `%(fork)s` as its fork, but `%(fork)s` is a %(kind)s step")
                % {"step": step.id, "fork": fork.id, "kind": fork.kind},
                _("join_of must name the fork step whose branches this join waits for"),
            )
            continue
        joins_of.setdefault(fork.id, []).append(step)
        if len(joins_of[fork.id]) > 1:
            report.add(
                f"steps[{index}].join_of",
                _("fork `%(fork)s` already has a join, `%(other)s`")
                % {"fork": fork.id, "other": joins_of[fork.id][0].id},
                _("one join per fork"),
            )
    for index, fork in enumerate(d.steps):
        if fork.kind != "fork" or steps.get(fork.id) is not fork:
            continue
        joins = joins_of.get(fork.id, [])
        if not joins:
            report.add(
                f"steps[{index}].id",
                _("fork `%(fork)s` has no join") % {"fork": fork.id},
                _("add a step {kind: join, join_of: %(fork)s, next: …} where the branches meet")
                % {"fork": fork.id},
            )
            continue
        join = joins[0]
        region: set[str] = {fork.id}
        for position, branch in enumerate(fork.branches):
            if branch not in steps:
                continue
            if branch == join.id:
                continue
            inside = _reach([branch], graph, stop=join.id)
            region |= inside
            if not any(join.id in graph[node] for node in inside):
                report.add(
                    f"steps[{index}].branches[{position}]",
                    _("branch `%(branch)s` of fork `%(fork)s` never reaches its join `%(join)s`")
                    % {"branch": branch, "fork": fork.id, "join": join.id},
                    _("lead the branch's last step to `%(join)s`") % {"join": join.id},
                )
        for source_id, step in steps.items():
            if source_id in region or join.id not in graph[source_id]:
                continue
            source_index = index_of[source_id]
            for path in _edge_paths(step, join.id, base=f"steps[{source_index}]"):
                report.add(
                    path,
                    _("join `%(join)s` is reached from `%(step)s`, outside the branches of fork `%(fork)s`")
                    % {"join": join.id, "step": source_id, "fork": fork.id},
                    _("only the fork's branches may lead into its join"),
                )


def _edge_paths(step: Step, target: str, *, base: str) -> list[str]:
    paths = [f"{base}.outcomes[{i}].to" for i, outcome in enumerate(step.outcomes) if outcome.to == target]
    paths += [f"{base}.branches[{i}]" for i, branch in enumerate(step.branches) if branch == target]
    if step.kind == "join" and step.next == target:
        paths.append(f"{base}.next")
    return paths


def _check_expression(report: _Report, path: str, source: str, names: dict[str, Field | None]) -> None:
    """`names`: field id → the Field (None for a name with no sub-fields to check)."""
    if not source:
        return
    error = expression_check(source)
    if error:
        report.add(
            path,
            _("the expression `%(source)s` does not compile: %(error)s")
            % {"source": _short(source), "error": error},
            _("expressions are CEL, e.g. length_m * 4500000 or surface == 'asphalt'"),
        )
        return
    for chain in sorted(expression_references(source)):
        head = chain[0]
        if head not in names:
            report.add(
                path,
                _("the expression reads `%(name)s`, which is not a form field") % {"name": head},
                did_you_mean(head, names)
                or _("define a field with id `%(name)s`, or fix the name") % {"name": head},
            )
            continue
        group = names[head]
        if group is not None and group.type == "group" and not group.repeatable and len(chain) > 1:
            subs = {sub.id for sub in group.fields}
            if chain[1] not in subs:
                report.add(
                    path,
                    _("group `%(group)s` has no field `%(name)s`") % {"group": head, "name": chain[1]},
                    did_you_mean(chain[1], subs)
                    or _("its fields: %(ids)s") % {"ids": ", ".join(sorted(subs))},
                )


def _short(source: str) -> str:
    return source if len(source) <= 60 else source[:57] + "…"


def _check_expressions(d: Definition, *, report: _Report) -> None:
    top: dict[str, Field | None] = {f.id: f for f in d.fields}
    for index, item in enumerate(d.fields):
        _check_field_expressions(report, f"fields[{index}]", item, top)
    for index, fee in enumerate(d.fees):
        _check_expression(report, f"fees[{index}].amount", fee.amount, top)
        _check_expression(report, f"fees[{index}].when", fee.when, top)
    for index, step in enumerate(d.steps):
        for position, outcome in enumerate(step.outcomes):
            _check_expression(report, f"steps[{index}].outcomes[{position}].when", outcome.when, top)


def _check_field_expressions(report: _Report, path: str, item: Field, names: dict[str, Field | None]) -> None:
    _check_expression(report, f"{path}.visible_if", item.visible_if, names)
    if item.fields:
        inner = {**names, **{sub.id: sub for sub in item.fields}}
        for position, sub in enumerate(item.fields):
            _check_field_expressions(report, f"{path}.fields[{position}]", sub, inner)


def _check_fees(d: Definition, *, steps: dict[str, Step], report: _Report) -> None:
    collected: set[str] = set()
    for index, fee in enumerate(d.fees):
        path = f"fees[{index}].step"
        if not fee.step:
            report.add(
                path,
                _("fee `%(fee)s` names no payment step to collect it") % {"fee": fee.id},
                _("add `step:` naming a step of kind payment"),
            )
        elif fee.step not in steps:
            _missing_step(report, path, fee.step, steps, _("fee `%(fee)s` is collected at") % {"fee": fee.id})
        elif steps[fee.step].kind != "payment":
            report.add(
                path,
                _("fee `%(fee)s` is collected at `%(step)s`, a %(kind)s step, not a payment step")
                % {"fee": fee.id, "step": fee.step, "kind": steps[fee.step].kind},
                _("point it to a step of kind payment"),
            )
        else:
            collected.add(fee.step)
    for index, step in enumerate(d.steps):
        if step.kind == "payment" and step.id not in collected and steps.get(step.id) is step:
            report.warn(
                f"steps[{index}].id",
                _("payment step `%(step)s` collects no fee") % {"step": step.id},
                _("name it as the `step:` of a fee, or change its kind"),
            )


def _check_documents(d: Definition, *, steps: dict[str, Step], report: _Report) -> None:
    documents = {doc.id for doc in d.documents}
    for index, doc in enumerate(d.documents):
        path = f"documents[{index}].step"
        if not doc.step:
            report.add(
                path,
                _("document `%(doc)s` is asked by no step") % {"doc": doc.id},
                _("add `step:` naming the step that needs it, or remove the document"),
            )
        elif doc.step not in steps:
            _missing_step(
                report, path, doc.step, steps, _("document `%(doc)s` is asked by") % {"doc": doc.id}
            )
        elif not steps[doc.step].is_work:
            report.add(
                path,
                _("document `%(doc)s` is asked by `%(step)s`, a %(kind)s step; only work steps ask for it")
                % {"doc": doc.id, "step": doc.step, "kind": steps[doc.step].kind},
                _("name the step that checks the document"),
            )
    for path, item in _all_fields(d.fields, "fields"):
        if item.type == "file" and item.document and item.document not in documents:
            report.add(
                f"{path}.document",
                _("file field `%(field)s` uploads document `%(doc)s`, which is not declared under documents:")
                % {"field": item.id, "doc": item.document},
                did_you_mean(item.document, documents) or _("declare the document under `documents:`"),
            )


def _all_fields(fields: list[Field], path: str) -> Iterable[tuple[str, Field]]:
    for index, item in enumerate(fields):
        yield f"{path}[{index}]", item
        yield from _all_fields(item.fields, f"{path}[{index}].fields")


def _check_outputs(d: Definition, *, report: _Report) -> None:
    outputs = {o.id for o in d.outputs}
    issued: set[str] = set()
    for index, step in enumerate(d.steps):
        if step.action == "issue_document" and step.output:
            issued.add(step.output)
            if step.output not in outputs:
                report.add(
                    f"steps[{index}].output",
                    _("step `%(step)s` issues output `%(output)s`, which is not declared under outputs:")
                    % {"step": step.id, "output": step.output},
                    did_you_mean(step.output, outputs) or _("declare it under `outputs:`"),
                )
    for index, output in enumerate(d.outputs):
        if output.id not in issued:
            report.warn(
                f"outputs[{index}].id",
                _("output `%(output)s` is issued by no step") % {"output": output.id},
                _("add an automatic step with action: issue_document and output: %(output)s")
                % {"output": output.id},
            )


def _check_legal_basis(d: Definition, *, report: _Report) -> None:
    for index, step in enumerate(d.steps):
        # Automatic steps act on the service's own legal basis; a person's step needs its own.
        if step.is_work and step.kind != "automatic" and step.legal_basis is None and not step.discretionary:
            report.warn(
                f"steps[{index}].id",
                _("step `%(step)s` has no legal basis") % {"step": step.id},
                _("mark it discretionary or cite the law under `legal_basis:`"),
            )


def _longest_path_days(d: Definition) -> float:
    from .metrics import longest_path_days

    return longest_path_days(d)


def _check_deadlines(d: Definition, *, report: _Report) -> None:
    legal = d.legal_deadline_days
    if legal is None:
        return
    longest = _longest_path_days(d)
    if longest > legal:
        report.warn(
            "legal_deadline_days",
            _("the longest path takes %(longest)s working days, more than the legal deadline of %(legal)s")
            % {"longest": _days(longest), "legal": _days(legal)},
            _("shorten the deadlines of the steps on the longest path, or remove steps"),
        )
    norm = d.service_norm_days
    if norm is not None and norm > legal:
        report.warn(
            "service_norm_days",
            _("the service norm (%(norm)s days) is longer than the legal deadline (%(legal)s days)")
            % {"norm": _days(norm), "legal": _days(legal)},
            _("the city's own target should be within the law's"),
        )


def _days(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


# -- variants --------------------------------------------------------------------------------------


def _merge(base: dict, change: dict) -> dict:
    """Mappings merged key by key, anything else (lists included) replaced whole."""
    merged = dict(base)
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def apply_variant(base: dict, patch: dict) -> dict:
    """The definition a district runs: `base` with the patch applied — remove_steps, then
    change_steps (mappings merged, lists replaced), then add_steps appended. `patch` may be a whole
    variant dict; keys other than those three are ignored. Neither argument is modified; parts of
    the wrong shape are skipped (validate_variant reports them)."""
    result = copy.deepcopy(base) if isinstance(base, dict) else {}
    patch = patch if isinstance(patch, dict) else {}
    removed = {s for s in _as_list(patch.get("remove_steps")) if isinstance(s, str)}
    changes = patch.get("change_steps") if isinstance(patch.get("change_steps"), dict) else {}
    steps = []
    for step in _as_list(result.get("steps")):
        step_id = step.get("id") if isinstance(step, dict) else None
        step_id = step_id if isinstance(step_id, str) else None
        if step_id in removed:
            continue
        if step_id is not None and isinstance(changes.get(step_id), dict):
            step = _merge(step, changes[step_id])
        steps.append(step)
    steps += copy.deepcopy(_as_list(patch.get("add_steps")))
    result["steps"] = steps
    return result


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


_STEP_PATH = re.compile(r"^steps\[(\d+)\]")


def validate_variant(
    data: dict,
    *,
    base: dict,
    filename: str = "",
    lines: LineMap | None = None,
    known_roles: set[str] | None = None,
) -> list[Problem]:
    """Every problem of a district variant of `base` (a process definition dict): the variant's
    JSON Schema; steps it removes or changes that `base` does not have; steps it adds that `base`
    already has; then the semantic checks on the definition after applying it, leaving out the
    problems `base` has on its own. Problems in steps the variant adds or changes point into the
    variant file; others say they arise after applying it. Never raises."""
    lines = lines or LineMap()
    format_name, problems = format_problems(data, filename=filename, lines=lines)
    if format_name == PROCESS_SCHEMA:
        message = _("this is a process definition, not a district variant")
        return [Problem(file=filename, line=lines.line("schema"), path="schema", message=str(message))]
    if problems:
        return problems
    problems = schema_problems(data, format_name=VARIANT_SCHEMA, filename=filename, lines=lines)
    if problems:
        return problems
    return _variant_semantics(data, base=base, filename=filename, lines=lines, known_roles=known_roles)


def _step_ids(definition: dict) -> list[str]:
    return [
        s.get("id")
        for s in _as_list(definition.get("steps"))
        if isinstance(s, dict) and isinstance(s.get("id"), str)
    ]


def _variant_semantics(
    data: dict, *, base: dict, filename: str, lines: LineMap, known_roles: set[str] | None
) -> list[Problem]:
    report = _Report(filename=filename, lines=lines)
    if not isinstance(base, dict):
        report.add("variant_of", _("the standard process of this variant could not be read"))
        return report.problems
    base_ids = _step_ids(base)
    if base.get("code") and data["variant_of"] != base.get("code"):
        report.add(
            "variant_of",
            _("this variant is of `%(code)s`, but the standard process given is `%(base)s`")
            % {"code": data["variant_of"], "base": base.get("code")},
        )
    removed = set()
    for index, step_id in enumerate(data.get("remove_steps", [])):
        removed.add(step_id)
        if step_id not in base_ids:
            report.add(
                f"remove_steps[{index}]",
                _("step `%(step)s` cannot be removed: the standard process has no such step")
                % {"step": step_id},
                did_you_mean(step_id, base_ids),
            )
    for step_id in data.get("change_steps", {}):
        path = join_path("change_steps", step_id)
        if step_id in removed:
            report.add(
                path, _("step `%(step)s` is both removed and changed") % {"step": step_id}, _("keep one")
            )
        elif step_id not in base_ids:
            report.add(
                path,
                _("step `%(step)s` cannot be changed: the standard process has no such step")
                % {"step": step_id},
                did_you_mean(step_id, base_ids) or _("to add a step, list it under add_steps"),
            )
    added_at: dict[str, int] = {}
    for index, step in enumerate(data.get("add_steps", [])):
        if step["id"] in base_ids and step["id"] not in removed:
            report.add(
                f"add_steps[{index}].id",
                _("step `%(step)s` already exists in the standard process") % {"step": step["id"]},
                _("change it under change_steps, or give the new step another id"),
            )
        added_at.setdefault(step["id"], index)
    if report.problems:
        return report.problems

    merged = apply_variant(base, data)
    after = definition_validate(merged, filename=filename, known_roles=known_roles)[1]
    before = definition_validate(base, filename=filename, known_roles=known_roles)[1]
    base_steps, merged_steps = _step_ids(base), _step_ids(merged)
    known_before = {(_by_step_id(p.path, base_steps), _kind_of(p.message)) for p in before}
    changes = data.get("change_steps", {})
    removed_at = {step_id: index for index, step_id in enumerate(data.get("remove_steps", []))}
    for problem in after:
        merged_path = _by_step_id(problem.path, merged_steps)
        if (merged_path, _kind_of(problem.message)) in known_before:
            continue
        path, line = _variant_location(problem.path, merged_steps, added_at, changes, lines)
        message = str(problem.message)
        if path is None:
            # The problem is in a step the variant left alone: it comes from what the variant removed
            # (a reference to a removed step) or from the way the steps now fit together.
            cause = next((i for step_id, i in removed_at.items() if f"`{step_id}`" in message), None)
            path = f"remove_steps[{cause}]" if cause is not None else ""
            line = lines.line(path) if cause is not None else None
            message = str(
                _("after applying the variant, %(path)s: %(message)s")
                % {"path": merged_path, "message": message}
            )
        report.problems.append(
            Problem(
                file=filename,
                line=line,
                path=path,
                message=message,
                hint=problem.hint,
                severity=problem.severity,
            )
        )
    return _sorted(report.problems)


def _kind_of(message) -> str:
    """A message without its numbers: the standard process being 443 days over the legal deadline and
    the variant 446 is one problem, and it is not the variant's."""
    return re.sub(r"\d+(?:\.\d+)?", "#", str(message))


def _by_step_id(path: str, step_ids: list[str]) -> str:
    """`steps[3].role` → `steps[inspect].role`, so problems compare across added and removed steps."""
    match = _STEP_PATH.match(path)
    if not match or int(match[1]) >= len(step_ids):
        return path
    return f"steps[{step_ids[int(match[1])]}]{path[match.end() :]}"


def _variant_location(
    path: str, merged_steps: list[str], added_at: dict[str, int], changes: dict, lines: LineMap
) -> tuple[str | None, int | None]:
    """Where in the variant file a problem of the merged definition comes from, if it does."""
    match = _STEP_PATH.match(path)
    if not match or int(match[1]) >= len(merged_steps):
        return None, None
    step_id = merged_steps[int(match[1])]
    rest = path[match.end() :]
    if step_id in added_at:
        at = f"add_steps[{added_at[step_id]}]{rest}"
        return at, lines.line(at)
    change = changes.get(step_id)
    key = rest.lstrip(".").split(".")[0].split("[")[0]
    if isinstance(change, dict) and key in change:
        at = join_path("change_steps", step_id) + rest
        return at, lines.line(at)
    return None, None


# -- files -----------------------------------------------------------------------------------------


def _definition_files(paths: Iterable[str | Path], problems: list[Problem]) -> list[Path]:
    files: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = [
                p
                for p in sorted(path.rglob("*"))
                if p.is_file()
                and p.suffix.lower() in DEFINITION_SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            ]
            files += found
        elif path.is_file():
            files.append(path)
        else:
            problems.append(
                Problem(file=str(path), line=None, path="", message=str(_("no such file or directory")))
            )
    unique: list[Path] = []
    for path in files:
        if path not in unique:
            unique.append(path)
    return unique


def _find_base(variant: Path, data: dict, index: dict[tuple[str, int], LoadResult]) -> LoadResult | None:
    wanted = (data.get("variant_of"), data.get("version"))
    if wanted in index:
        return index[wanted]
    # Validating a variant on its own: look for its standard process in the bank folder around it.
    for folder in (variant.parent, variant.parent.parent):
        for candidate in sorted(folder.glob("*.y*ml")):
            if candidate == variant or candidate.suffix.lower() not in (".yaml", ".yml"):
                continue
            loaded = load_definition_file(candidate)
            data_found = loaded.data or {}
            if (
                loaded.definition is not None
                and (data_found.get("code"), data_found.get("version")) == wanted
            ):
                return loaded
    return None


def validate_paths(paths: Iterable[str | Path], *, known_roles: set[str] | None = None) -> list[Problem]:
    """Every problem of the definition files at `paths`: files, or directories searched recursively
    for *.yaml, *.yml and *.bpmn (hidden folders skipped). Processes are checked in full; a
    variant is checked against its standard process, found among the files given or in the
    folders around it. Two files defining the same code and version are an error. Problems are
    sorted by file and line. Never raises."""
    problems: list[Problem] = []
    files = _definition_files(paths, problems)
    loaded = [(path, load_definition_file(path, known_roles=known_roles)) for path in files]
    index: dict[tuple[str, int], LoadResult] = {}
    where: dict[tuple[str, int], str] = {}
    for path, result in loaded:
        problems += result.problems
        if result.definition is None or result.is_variant:
            continue
        key = (result.definition.code, result.definition.version)
        if key in index:
            problems.append(
                Problem(
                    file=str(path),
                    line=result.lines.line("code"),
                    path="code",
                    message=str(
                        _("`%(code)s` version %(version)s is also defined in %(other)s")
                        % {"code": key[0], "version": key[1], "other": where[key]}
                    ),
                    hint=str(_("give this file the next version number")),
                )
            )
            continue
        index[key] = result
        where[key] = str(path)
    for path, result in loaded:
        if not result.is_variant or not result.ok:
            continue
        base = _find_base(path, result.data, index)
        if base is None:
            problems.append(
                Problem(
                    file=str(path),
                    line=result.lines.line("variant_of"),
                    path="variant_of",
                    message=str(
                        _("no process `%(code)s` version %(version)s was found for this variant")
                        % {"code": result.data["variant_of"], "version": result.data["version"]}
                    ),
                    hint=str(
                        _("validate it together with the standard definition, e.g. the processes/ folder")
                    ),
                )
            )
            continue
        problems += _variant_semantics(
            result.data, base=base.data, filename=str(path), lines=result.lines, known_roles=known_roles
        )
    order = {str(path): position for position, path in enumerate(files)}
    return sorted(problems, key=lambda p: (order.get(p.file, -1), p.line is None, p.line or 0))
