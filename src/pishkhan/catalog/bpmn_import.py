"""Read a BPMN 2.0 file (Bizagi Modeler, Camunda Modeler, bpmn.io, our own export) into a process
definition dict.

    bpmn_import(data, *, filename="", code=None) -> BpmnImport

The mapping (see `catalog.bpmn` for both directions):

- the process with the most flow nodes is imported (other pools are reported); its title is the
  participant's name, else the process's; its code comes from `code`, `pishkhan:code`, the process
  id, or the name, in that order;
- lanes → roles (a lane named like a standard role is that role; other lanes are declared under
  `roles:` with a code made from the name: Latin slugged, Persian transliterated, else hashed);
- task and user task → review, manual task → review, receive task → citizen, service, script, send
  and business-rule tasks → automatic (the action guessed from the task type and name, and reported);
- exclusive gateways → the outcomes of the task before them: each outgoing flow is an outcome whose
  kind comes from `pishkhan:outcome` or the flow's name ("approve/تایید", "reject/رد",
  "return/بازگشت", "refer/ارجاع", "done/انجام شد"), else is guessed (and reported); a condition is
  kept as `when:` only when it is valid CEL (`${…}` and `=…` wrappers are taken off first);
- parallel gateways → fork and join steps, each join paired with the fork whose branches all reach it;
- start event → `start`, end events → end steps (result from `pishkhan:result` or the name, else
  `approved`, reported);
- deadlines from `pishkhan:deadlineDays`, else a timer boundary event's ISO-8601 duration (in days,
  rounded up), else 1 day (reported);
- our own exports carry the rest of the definition (documents, fields, fees, outputs, texts) in
  `<pishkhan:definition>`; a foreign file gets a form field for each name its conditions read and
  an output for each step that issues a document (both reported), so the draft passes validation.

What cannot be mapped is listed in `.unmapped` with its type, id and line: sub-processes and call
activities (each kept as one review step so the flow stays connected), inclusive, event-based and
complex gateways (read as exclusive), intermediate events (skipped over), boundary events other
than timers, message flows, data objects and stores, annotations, other pools, vendor extensions
(one line per namespace). Diagram interchange is not read: export draws a new layout.

The reader is defensive: input is limited to `MAX_BYTES`, parsed without DTDs, entities or network
access (a DOCTYPE is refused outright), and every failure — not XML, truncated, not BPMN, a bug here —
becomes a problem in the result. `bpmn_import` never raises."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from lxml import etree

from pishkhan.accounts.roles import STANDARD_ROLES as STANDARD_ROLE_ROWS
from pishkhan.core.text import search_fold

from .bpmn_vocabulary import (
    BPMN_NS,
    CARRIED_KEYS,
    CEL_LANGUAGE,
    KNOWN_NAMESPACES,
    PISHKHAN_NS,
    action_from_name,
    end_result_from_name,
    kind_from_name,
    outcome_from_name,
    outcome_words_only,
)
from .definition import AUTOMATIC_ACTIONS, END_RESULTS, OUTCOMES, STANDARD_ROLES, WORK_KINDS
from .expressions import expression_check, expression_names
from .loader import Problem

# Our own exports of a 129-step process are ~250 KB; Bizagi and Camunda files of real processes stay
# well under a megabyte. The cap keeps a hostile upload from costing memory and parse time.
MAX_BYTES = 8 * 1024 * 1024
MAX_ID_LENGTH = 48  # the format allows 60; leave room for `_2` suffixes and synthetic `_fork` steps
DEFAULT_DEADLINE_DAYS = 1
# Steps of the walks through gateways and of the fork/join pairing. The 129-step permit needs 65, a
# messy foreign process a few thousand.
MAX_WALK_STEPS = 200_000
# Gateways and events in a row without a task between them; the walk through them is recursive.
MAX_CHAIN = 300

_TASK_KINDS = {
    "task": "review",
    "userTask": "review",
    "manualTask": "review",
    "receiveTask": "citizen",
    "serviceTask": "automatic",
    "scriptTask": "automatic",
    "sendTask": "automatic",
    "businessRuleTask": "automatic",
}
# Key order of a definition dict, as definition_to_dict writes it.
_DEFINITION_ORDER = (
    "title", "description", "department", "category", "keywords", "legal_basis", "channels", "eligibility",
    "legal_deadline_days", "service_norm_days", "roles", "start", "documents", "fields", "fees", "steps", "outputs",
)  # fmt: skip
_CONTAINERS = {"subProcess", "callActivity", "transaction", "adHocSubProcess"}
_LOOSE_GATEWAYS = {"inclusiveGateway", "eventBasedGateway", "complexGateway"}
_INTERMEDIATE = {"intermediateCatchEvent", "intermediateThrowEvent"}
_FLOW_NODE_TAGS = (set(_TASK_KINDS) | _CONTAINERS | _LOOSE_GATEWAYS | _INTERMEDIATE) | {
    "startEvent",
    "endEvent",
    "boundaryEvent",
    "exclusiveGateway",
    "parallelGateway",
}
# Children of a flow node that the mapping reads (or that carry nothing to map).
_READ_CHILDREN = {"incoming", "outgoing", "extensionElements", "conditionExpression", "flowNodeRef"}
_STANDARD_NAMES = {
    search_fold(name): row[0] for row in STANDARD_ROLE_ROWS for name in (row[0], row[1], row[2])
} | {search_fold(code.replace("_", " ")): code for code in STANDARD_ROLES}
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_CODE = re.compile(r"^[a-z][a-z0-9-]*$")
# Ids modelling tools make up (`Activity_0x3k2d1`, `sid-5D3E…`, `Id_8c2e4d6f-…`, `_6a1b…`) say nothing.
_GENERATED = re.compile(
    r"\d{4,}|(?=[a-z]*\d)[0-9a-f]{7,}|^(?:sid|id|process|activity|task|flow|gateway|event)[-_]?\d", re.I
)
_ISO_DURATION = re.compile(
    r"^P(?:(?P<years>\d+(?:[.,]\d+)?)Y)?(?:(?P<months>\d+(?:[.,]\d+)?)M)?(?:(?P<weeks>\d+(?:[.,]\d+)?)W)?"
    r"(?:(?P<days>\d+(?:[.,]\d+)?)D)?(?:T(?:(?P<hours>\d+(?:[.,]\d+)?)H)?(?:(?P<minutes>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?$"
)
_DAYS_PER = {
    "years": 365,
    "months": 30,
    "weeks": 7,
    "days": 1,
    "hours": 1 / 24,
    "minutes": 1 / 1440,
    "seconds": 1 / 86400,
}
_DTD = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.I)
_WRAPPED_EXPRESSION = re.compile(r"^\s*(?:[$#]\{(?P<juel>.*)\}|=(?P<feel>.*))\s*$", re.S)

# Persian letters in Latin, for codes made from Persian names ("کارشناس ترافیک" → karshnas_trafyk).
_TRANSLITERATION = str.maketrans(
    {
        "ا": "a", "آ": "a", "ب": "b", "پ": "p", "ت": "t", "ث": "s", "ج": "j", "چ": "ch", "ح": "h",
        "خ": "kh", "د": "d", "ذ": "z", "ر": "r", "ز": "z", "ژ": "zh", "س": "s", "ش": "sh", "ص": "s",
        "ض": "z", "ط": "t", "ظ": "z", "ع": "a", "غ": "gh", "ف": "f", "ق": "gh", "ک": "k", "گ": "g",
        "ل": "l", "م": "m", "ن": "n", "و": "v", "ه": "h", "ی": "y", "ئ": "y", "ء": "",
    }
)  # fmt: skip


@dataclass
class BpmnImport:
    """What `bpmn_import` made of a file.

    `data` is a definition dict in the process format (`pishkhan/process/1`, version 1, status
    draft) or None when the file could not be read as BPMN at all. `problems` are errors (not XML,
    unsafe XML, not BPMN, no process, broken references) and warnings (every guess the mapping made).
    `unmapped` lists each element that was not imported, with its type, id and line.
    `steps_found` are the ids of the work steps imported, `roles_found` the codes of the roles read
    from lanes."""

    data: dict | None = None
    problems: list[Problem] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    steps_found: list[str] = field(default_factory=list)
    roles_found: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != "error"]

    @property
    def ok(self) -> bool:
        """A definition was made and nothing is broken (warnings may remain)."""
        return self.data is not None and not self.errors

    def lines(self) -> list[str]:
        """The report `pishkhan catalog import` prints: counts, problems, unmapped elements."""
        lines = [
            _("%(steps)s steps and %(roles)s roles found")
            % {"steps": len(self.steps_found), "roles": len(self.roles_found)}
        ]
        lines += [f"{problem.severity}: {problem}" for problem in self.problems]
        lines += [_("not imported: %(what)s") % {"what": item} for item in self.unmapped]
        return lines


# -- small helpers ---------------------------------------------------------------------------------


def _local(element) -> str:
    """The local name of a BPMN-namespace element, "" for anything else (vendor content, comments)."""
    if not isinstance(element.tag, str):
        return ""
    qname = etree.QName(element)
    return qname.localname if qname.namespace == BPMN_NS else ""


def _p(element, name: str) -> str:
    return (element.get(f"{{{PISHKHAN_NS}}}{name}") or "").strip()


def _identifier(text: str) -> str:
    """A `[a-z][a-z0-9_]*` id made from any text ("" when nothing usable is left)."""
    folded = search_fold(text or "").translate(_TRANSLITERATION)
    slug = re.sub(r"[^a-z0-9]+", "_", folded).strip("_")
    if slug and not slug[0].isalpha():
        slug = f"n_{slug}"
    return slug[:MAX_ID_LENGTH].rstrip("_")


def _hashed(prefix: str, text: str) -> str:
    return f"{prefix}_{hashlib.sha256(text.encode('utf-8')).hexdigest()[:8]}"


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value) or value < 0 or value > 3650:
        return None
    return int(value) if value.is_integer() else value


def _duration_days(text: str) -> tuple[float | None, bool]:
    """Days in an ISO-8601 duration, rounded up to whole days; and whether it was approximate
    (years, months and sub-day parts do not map exactly onto working days)."""
    match = _ISO_DURATION.match((text or "").strip().upper())
    if not match or not any(match.groupdict().values()):
        return None, False
    days = 0.0
    approximate = False
    for unit, value in match.groupdict().items():
        if value:
            days += float(value.replace(",", ".")) * _DAYS_PER[unit]
            approximate |= unit not in ("weeks", "days")
    whole = max(1, math.ceil(days - 1e-9))
    return (whole if whole <= 3650 else None), approximate or whole != days


def _field_type(name: str, expressions: list[str]) -> str:
    """The field type a condition's use of `name` suggests: compared with a number → number, with
    a string → text, negated, compared with true/false or used alone → boolean; else text."""
    word = rf"(?<![\w.]){re.escape(name)}(?![\w(])"
    number = r"-?\d+(?:\.\d+)?"
    for expression in expressions:
        if re.search(
            rf"{word}\s*(?:[<>]=?|[=!]=|[-+*/%])\s*{number}|{number}\s*(?:[<>]=?|[=!]=|[-+*/%])\s*{word}",
            expression,
        ):
            return "number"
        if re.search(rf"{word}\s*[=!]=\s*['\"]|['\"]\s*[=!]=\s*{word}", expression):
            return "text"
        if (
            re.search(rf"!\s*{word}|{word}\s*[=!]=\s*(?:true|false)\b", expression)
            or expression.strip() == name
        ):
            return "boolean"
    return "text"


def _condition(text: str) -> tuple[str, bool]:
    """(expression, unwrapped): the CEL candidate in a condition, with Camunda's `${…}` (JUEL) or
    `=…` (FEEL) wrapper taken off."""
    match = _WRAPPED_EXPRESSION.match(text or "")
    if match:
        return (match.group("juel") if match.group("juel") is not None else match.group("feel")).strip(), True
    return (text or "").strip(), False


@dataclass
class _Flow:
    element: object
    id: str
    source: str
    target: str
    name: str
    line: int | None

    @property
    def outcome(self) -> str:
        return _p(self.element, "outcome")

    @property
    def says_something(self) -> bool:
        return bool(self.outcome or self.name or self.condition_text)

    @property
    def condition_text(self) -> str:
        if _p(self.element, "when"):
            return _p(self.element, "when")
        condition = next((c for c in self.element if _local(c) == "conditionExpression"), None)
        return (condition.text or "").strip() if condition is not None else ""


@dataclass
class _Node:
    element: object
    id: str
    tag: str
    name: str
    line: int | None
    role: str  # work | end | start | decision | parallel | pass | boundary
    out: list[_Flow] = field(default_factory=list)
    inc: list[_Flow] = field(default_factory=list)
    step_id: str = ""
    is_fork: bool = False
    is_join: bool = False
    join_of: str = ""  # BPMN id of the paired fork
    fork_step_id: str = ""  # a gateway that both joins and forks: the synthetic fork step's id


class _TooTangled(Exception):
    """The walk through the process went past MAX_WALK_STEPS."""


class _TooDeep(_TooTangled):
    """More than MAX_CHAIN gateways and events in a row, without a task between them."""


@dataclass
class _Route:
    target: _Node
    flows: list[_Flow]


# -- the reader ------------------------------------------------------------------------------------


class _Reader:
    def __init__(self, *, result: BpmnImport, filename: str, code: str | None):
        self.result = result
        self.filename = filename
        self.code = code
        self.nodes: dict[str, _Node] = {}
        self.flows: list[_Flow] = []
        self.taken_ids: set[str] = set()
        self.lane_roles: dict[str, str] = {}  # BPMN node id → role code
        self.roles: dict[str, dict] = {}  # declared roles by code
        self.deadlines: dict[str, tuple[float, _Node]] = {}  # BPMN node id → days, from a timer
        self.outputs: list[dict] = []  # documents that steps issuing one were given
        self.next_suffix: dict[str, int] = {}
        self.default_flows: set[str] = set()  # ids of the gateways' default flows
        self.work_done = 0

    # reporting

    def problem(self, message: str, *, element=None, hint: str = "", severity: str = "warning") -> None:
        line = getattr(element, "sourceline", None) if element is not None else None
        path = ""
        if element is not None and isinstance(getattr(element, "tag", None), str):
            path = etree.QName(element).localname + (f"#{element.get('id')}" if element.get("id") else "")
        self.result.problems.append(
            Problem(file=self.filename, line=line, path=path, message=message, hint=hint, severity=severity)
        )

    def error(self, message: str, *, element=None, hint: str = "") -> None:
        self.problem(message, element=element, hint=hint, severity="error")

    def unmapped(self, element, what: str) -> None:
        kind = etree.QName(element).localname if isinstance(element.tag, str) else "?"
        ident = element.get("id") or "-"
        self.result.unmapped.append(
            _('%(type)s "%(id)s" (line %(line)s): %(what)s')
            % {"type": kind, "id": ident, "line": element.sourceline or "?", "what": what}
        )

    # parsing

    def parse(self, data) -> object | None:
        if isinstance(data, str):
            data = data.encode("utf-8")
        if not isinstance(data, bytes | bytearray | memoryview):
            self.error(_("expected the bytes of a BPMN file, got %(type)s") % {"type": type(data).__name__})
            return None
        data = bytes(data)
        if not data.strip():
            self.error(_("the file is empty"), hint=_("export the diagram as BPMN 2.0 XML"))
            return None
        if len(data) > MAX_BYTES:
            self.error(
                _("the file is %(size)s MB; BPMN import reads at most %(limit)s MB")
                % {"size": round(len(data) / 1048576, 1), "limit": MAX_BYTES // 1048576},
                hint=_("export without embedded images or attachments"),
            )
            return None
        refused = _("the file has a DOCTYPE; DTDs and entities are refused because they can read files or "
                    "expand without end")  # fmt: skip
        hint = _("modelling tools never write one: export the diagram again as plain BPMN 2.0 XML")
        if _DTD.search(data):
            self.error(refused, hint=hint)
            return None
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            huge_tree=False,
            load_dtd=False,
            dtd_validation=False,
            remove_comments=True,
            remove_pis=True,
        )
        try:
            root = etree.fromstring(data, parser)
        except etree.XMLSyntaxError as error:
            line = error.lineno if isinstance(error.lineno, int) and error.lineno > 0 else None
            message = str(error.msg or error).split(" (line ")[0]
            self.result.problems.append(
                Problem(
                    file=self.filename,
                    line=line,
                    path="",
                    message=_("not well-formed XML: %(error)s") % {"error": message[:300]},
                    hint=_("the file may be truncated, or not a BPMN export at all"),
                    severity="error",
                )
            )
            return None
        except (etree.ParserError, ValueError) as error:
            self.error(_("not readable as XML: %(error)s") % {"error": str(error)[:300]})
            return None
        if root is None:
            self.error(_("not readable as XML"))
            return None
        docinfo = root.getroottree().docinfo
        # Encodings such as UTF-16 hide a DOCTYPE from the byte check above; the parser still saw it.
        if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
            self.error(refused, hint=hint)
            return None
        return root

    # reading

    def read(self, data) -> None:
        root = self.parse(data)
        if root is None:
            return
        qname = etree.QName(root)
        if qname.localname != "definitions" or qname.namespace != BPMN_NS:
            if qname.localname == "definitions":
                message = _("the root element is in namespace %(ns)s, not BPMN 2.0's %(bpmn)s")
            else:
                message = _("the root element is <%(tag)s>, not BPMN's <definitions> (namespace %(bpmn)s)")
            self.error(
                message % {"ns": qname.namespace or "-", "tag": qname.localname, "bpmn": BPMN_NS},
                element=root,
                hint=_("export the diagram as BPMN 2.0 XML"),
            )
            return
        process = self.choose_process(root)
        if process is None:
            return
        self.report_vendor_content(root)
        participant = self.read_collaborations(root, process)
        self.read_lanes(process)
        self.read_flow_elements(process)
        self.pair_gateways()
        self.assign_step_ids()
        steps = self.build_steps()
        start = self.find_start(process)
        self.result.data = self.assemble(process, participant, steps, start)
        self.result.steps_found = [s["id"] for s in steps if s["kind"] in WORK_KINDS]
        self.result.roles_found = list(dict.fromkeys([*self.lane_roles.values(), *self.roles]))

    def choose_process(self, root):
        processes = [child for child in root if _local(child) == "process"]
        if not processes:
            self.error(
                _("the file has no <process>: there is nothing to import"),
                element=root,
                hint=_("a collaboration diagram needs at least one pool with its process"),
            )
            return None

        def size(process) -> int:
            return sum(1 for child in process if _local(child) in _FLOW_NODE_TAGS)

        chosen = max(processes, key=size)
        if size(chosen) == 0:
            self.error(_("the process has no tasks, events or gateways"), element=chosen)
            return None
        for other in processes:
            if other is not chosen and size(other):
                self.unmapped(other, _("a second process (pool) with %(count)s elements; one process is "
                                       "imported per definition") % {"count": size(other)})  # fmt: skip
        return chosen

    def report_vendor_content(self, root) -> None:
        """One line per vendor namespace: its elements and attributes were not imported."""
        elements: dict[str, list[str]] = defaultdict(list)
        attributes: dict[str, list[str]] = defaultdict(list)
        first_line: dict[str, int] = {}
        skip: set = set()
        for element in root.iter():
            if not isinstance(element.tag, str):
                continue
            qname = etree.QName(element)
            if qname.namespace not in KNOWN_NAMESPACES and element.getparent() not in skip:
                name = f"{element.prefix}:{qname.localname}" if element.prefix else qname.localname
                elements[qname.namespace or ""].append(name)
                first_line.setdefault(qname.namespace or "", element.sourceline or 0)
            if qname.namespace not in KNOWN_NAMESPACES:
                skip.add(element)  # the children of vendor content are part of it: name the top only
            for attribute in element.attrib:
                attribute_name = etree.QName(attribute)
                namespace = attribute_name.namespace
                if namespace and namespace not in KNOWN_NAMESPACES and "XML/1998" not in namespace:
                    prefix = next((p for p, ns in element.nsmap.items() if ns == namespace and p), "")
                    attributes[namespace].append(
                        f"{prefix}:{attribute_name.localname}" if prefix else attribute_name.localname
                    )
                    first_line.setdefault(namespace, element.sourceline or 0)
        for namespace in sorted(set(elements) | set(attributes)):
            names = sorted(set(elements[namespace]) | set(attributes[namespace]))
            count = len(elements[namespace]) + len(attributes[namespace])
            self.result.unmapped.append(
                _("vendor extensions in namespace %(ns)s (line %(line)s on, %(count)s in all: %(names)s)")
                % {
                    "ns": namespace or "-",
                    "line": first_line.get(namespace) or "?",
                    "count": count,
                    "names": ", ".join(names[:8]) + (", …" if len(names) > 8 else ""),
                }
            )

    def read_collaborations(self, root, process):
        participant = None
        for child in root:
            tag = _local(child)
            if tag in ("process", "BPMNDiagram") or not tag:
                continue
            if tag != "collaboration":
                # Messages, signals, errors, item definitions, data stores …: nothing in the format.
                if child.tag != f"{{{BPMN_NS}}}extension":
                    self.unmapped(
                        child, _("a %(type)s definition has no place in a process definition") % {"type": tag}
                    )
                continue
            for item in child:
                kind = _local(item)
                if (
                    kind == "participant"
                    and item.get("processRef") == process.get("id")
                    and participant is None
                ):
                    participant = item
                elif kind == "participant":
                    self.unmapped(item, _("another pool; only the pool of the imported process is read"))
                elif kind == "messageFlow":
                    self.unmapped(item, _("message flows between pools are not part of a process definition"))
                elif kind and kind != "extensionElements":
                    self.unmapped(item, _("not part of a process definition"))
        return participant

    def role_for_lane(self, lane) -> str:
        name = (lane.get("name") or "").strip()
        declared_code = _p(lane, "role")
        if _ID.match(declared_code):
            code = declared_code
            title = {"fa": _p(lane, "fa") or name or code}
            if _p(lane, "en"):
                title["en"] = _p(lane, "en")
            # Our own export says which roles the file declared; a standard role is never declared.
            if _p(lane, "declared") == "true":
                self.roles.setdefault(code, {"code": code, "title": title})
            return code
        standard = _STANDARD_NAMES.get(search_fold(name))
        if standard:
            return standard
        code = _identifier(name) or _identifier(lane.get("id") or "")
        if not code or _GENERATED.search(code):
            code = _hashed("role", name or lane.get("id") or "")
        if code not in self.roles:
            self.roles[code] = {"code": code, "title": {"fa": name or code}}
            if code != _identifier(name):
                self.problem(
                    _("lane %(name)r became role `%(code)s`") % {"name": name, "code": code},
                    element=lane,
                    hint=_("rename the role code in the definition if you want a readable one"),
                )
        return code

    def read_lanes(self, process) -> None:
        for lane_set in (child for child in process if _local(child) == "laneSet"):
            # Parents come before their child lanes in document order, so the innermost lane wins.
            for lane in lane_set.iter(f"{{{BPMN_NS}}}lane"):
                refs = [(ref.text or "").strip() for ref in lane if _local(ref) == "flowNodeRef"]
                nested = any(_local(child) == "childLaneSet" and len(child) for child in lane)
                if nested and not refs:
                    continue  # a lane that only groups other lanes is no role of its own
                code = self.role_for_lane(lane)
                for ref in refs:
                    if ref:
                        self.lane_roles[ref] = code

    def read_flow_elements(self, process) -> None:
        boundaries = []
        for child in process:
            tag = _local(child)
            if not tag:
                continue  # vendor content was reported per namespace
            if tag in ("laneSet", "extensionElements", "sequenceFlow", "documentation"):
                continue
            if tag not in _FLOW_NODE_TAGS:
                self.unmapped(child, _("not part of a process definition"))
                continue
            node_id = child.get("id") or ""
            if not node_id:
                self.error(_("a %(type)s has no id") % {"type": tag}, element=child)
                continue
            if node_id in self.nodes:
                self.error(_("the id %(id)s is used twice") % {"id": node_id}, element=child)
                continue
            role = self.node_role(child, tag)
            node = _Node(child, node_id, tag, (child.get("name") or "").strip(), child.sourceline, role)
            self.nodes[node_id] = node
            if role == "boundary":
                boundaries.append(node)
            self.report_children(node)
        for child in process:
            if _local(child) == "sequenceFlow":
                self.read_flow(child)
        for boundary in boundaries:
            self.read_boundary(boundary)

    def node_role(self, element, tag: str) -> str:
        if tag in _TASK_KINDS:
            return "work"
        if tag in _CONTAINERS:
            inner = sum(1 for e in element.iter() if _local(e) in _FLOW_NODE_TAGS) - 1
            if tag == "callActivity":
                what = _("calls another process, which is not imported; kept as one review step")
            else:
                what = _("a %(type)s with %(count)s inner elements; kept as one review step, its contents "
                         "are not imported") % {"type": tag, "count": max(inner, 0)}  # fmt: skip
            self.unmapped(element, what)
            return "work"
        if tag == "startEvent":
            return "start"
        if tag == "endEvent":
            return "end"
        if tag == "exclusiveGateway":
            return "decision"
        if tag in _LOOSE_GATEWAYS:
            self.unmapped(element, _("read as an exclusive gateway: one outgoing path is taken"))
            return "decision"
        if tag == "parallelGateway":
            return "parallel"
        if tag in _INTERMEDIATE:
            self.unmapped(element, _("an intermediate event; the flow goes straight on past it"))
            return "pass"
        return "boundary"

    def report_children(self, node: _Node) -> None:
        for child in node.element:
            tag = _local(child)
            if not tag or tag in _READ_CHILDREN:
                continue
            if node.role in ("start", "end", "boundary", "pass") and tag.endswith("EventDefinition"):
                if tag == "terminateEventDefinition" or (node.role in ("boundary", "pass")):
                    continue  # boundary and intermediate events are reported as a whole
                self.unmapped(child, _("the trigger or result of %(id)s is not kept") % {"id": node.id})
                continue
            if node.role == "work" and node.tag in _CONTAINERS:
                continue  # the container was reported with its contents
            self.unmapped(
                child, _("inside %(type)s %(id)s; not imported") % {"type": node.tag, "id": node.id}
            )

    def read_flow(self, element) -> None:
        flow_id = element.get("id") or ""
        source, target = (element.get("sourceRef") or "").strip(), (element.get("targetRef") or "").strip()
        for end, ref in (("source", source), ("target", target)):
            if ref not in self.nodes:
                self.error(
                    _("sequence flow %(id)s has %(end)s %(ref)r, which is no element of the process")
                    % {"id": flow_id or "?", "end": end, "ref": ref},
                    element=element,
                    hint=_("the file is damaged or was edited by hand; redraw the flow in the modeller"),
                )
                return
        flow = _Flow(
            element, flow_id, source, target, (element.get("name") or "").strip(), element.sourceline
        )
        if self.nodes[source].role == "boundary":
            self.unmapped(element, _("a path out of boundary event %(id)s; not imported") % {"id": source})
            return
        if self.nodes[target].role in ("boundary", "start"):
            self.error(
                _("sequence flow %(id)s leads into %(target)s, which cannot be entered")
                % {"id": flow_id, "target": target},
                element=element,
            )
            return
        self.flows.append(flow)
        self.nodes[source].out.append(flow)
        self.nodes[target].inc.append(flow)

    def read_boundary(self, node: _Node) -> None:
        element = node.element
        timer = next((c for c in element if _local(c) == "timerEventDefinition"), None)
        attached = (element.get("attachedToRef") or "").strip()
        if timer is None:
            definition = next((_local(c) for c in element if _local(c).endswith("EventDefinition")), "")
            self.unmapped(
                element,
                _("a %(trigger)s boundary event on %(task)s; not imported")
                % {"trigger": definition.removesuffix("EventDefinition") or "plain", "task": attached or "?"},
            )
            return
        duration = next((c for c in timer if _local(c) == "timeDuration"), None)
        days, approximate = _duration_days(duration.text if duration is not None else "")
        if days is None or attached not in self.nodes:
            self.unmapped(
                element,
                _(
                    "a timer that is no ISO-8601 duration on a task (a date or a cycle); not read as a deadline"
                ),
            )
            return
        self.deadlines[attached] = (days, node)
        if approximate:
            self.problem(
                _("timer %(text)s on %(task)s read as a deadline of %(days)s days")
                % {"text": (duration.text or "").strip(), "task": attached, "days": days},
                element=element,
                hint=_("deadlines are whole working days"),
            )

    # gateways

    def nearest_common_join(self, fork: _Node, paired: set[str]) -> _Node | None:
        """The parallel join that every branch of `fork` reaches first: breadth-first walks from all
        branches in step, stopped at the first level where one join is reached by all of them, so a
        well-nested fork costs the size of its own region, not of the whole process."""
        seen = [{flow.target} for flow in fork.out]
        frontiers = [[flow.target] for flow in fork.out]
        fresh = [flow.target for flow in fork.out]
        while True:
            # A join becomes common when the last branch reaches it, so only fresh nodes need a look.
            common = [
                node
                for node in (self.nodes[node_id] for node_id in dict.fromkeys(fresh))
                if node.is_join
                and node is not fork
                and node.id not in paired
                and all(node.id in s for s in seen)
            ]
            if common:
                return min(common, key=lambda node: node.line or 0)
            if not any(frontiers):
                return None
            fresh = []
            for index, frontier in enumerate(frontiers):
                following = []
                for node_id in frontier:
                    outs = self.nodes[node_id].out
                    self.spend(1 + len(outs))
                    for flow in outs:
                        if flow.target not in seen[index]:
                            seen[index].add(flow.target)
                            following.append(flow.target)
                frontiers[index] = following
                fresh += following

    def pair_gateways(self) -> None:
        parallel = [n for n in self.nodes.values() if n.role == "parallel"]
        for node in parallel:
            said = _p(node.element, "kind")
            if said in ("fork", "join"):
                node.is_fork, node.is_join = said == "fork", said == "join"
                node.join_of = _p(node.element, "joinOf") if said == "join" else ""
            else:
                node.is_fork = len(node.out) > 1
                node.is_join = len(node.inc) > 1
                if not node.is_fork and not node.is_join:
                    node.role = "pass"
                    self.unmapped(
                        node.element, _("a parallel gateway with one way in and one way out; skipped")
                    )
        paired: set[str] = {n.id for n in parallel if n.join_of}
        claimed: set[str] = {n.join_of for n in parallel if n.join_of}
        for fork in (n for n in parallel if n.is_fork and n.role == "parallel"):
            if fork.id in claimed:
                continue
            join = self.nearest_common_join(fork, paired)
            if join is None:
                self.problem(
                    _("parallel gateway %(id)s splits the flow but no parallel join gathers its branches")
                    % {"id": fork.id},
                    element=fork.element,
                    hint=_("draw a parallel gateway where the branches meet"),
                )
                continue
            join.join_of = fork.id
            paired.add(join.id)
        for join in parallel:
            if join.is_join and not join.join_of:
                join.is_join = False
                if not join.is_fork:
                    join.role = "pass"
                self.problem(
                    _(
                        "parallel gateway %(id)s joins paths that no parallel gateway split; read as a plain merge"
                    )
                    % {"id": join.id},
                    element=join.element,
                )

    # ids

    def unique(self, candidate: str) -> str:
        candidate = candidate[:MAX_ID_LENGTH].rstrip("_") or "step"
        result, number = candidate, self.next_suffix.get(candidate, 2)
        while result in self.taken_ids:
            result = f"{candidate}_{number}"
            number += 1
        self.next_suffix[candidate] = number  # a thousand tasks named alike must not cost a million tries
        self.taken_ids.add(result)
        return result

    def assign_step_ids(self) -> None:
        steps = [n for n in self.nodes.values() if n.role in ("work", "end", "parallel")]
        # Ids that already are valid step ids keep them, so our own exports and hand-named Camunda
        # elements come back unchanged; the others are named after the element.
        for node in steps:
            if _ID.match(node.id) and len(node.id) <= MAX_ID_LENGTH and node.id not in self.taken_ids:
                node.step_id = node.id
                self.taken_ids.add(node.id)
        for node in steps:
            if not node.step_id:
                from_id = _identifier(node.id)
                if node.name and _identifier(node.name):
                    base = _identifier(node.name)
                elif from_id and not _GENERATED.search(from_id):
                    base = from_id
                else:
                    base = "end" if node.role == "end" else ("join" if node.is_join else "fork")
                    base = base if node.role in ("end", "parallel") else "step"
                node.step_id = self.unique(base)
        for node in steps:
            if node.is_fork and node.is_join:
                node.fork_step_id = self.unique(f"{node.step_id}_fork")

    # routes and outcomes

    def routes(self, flow: _Flow, chain: list[_Flow], visiting: frozenset) -> list[_Route]:
        """Where a flow ends up once decisions and pass-through elements are walked through."""
        target = self.nodes[flow.target]
        chain = [*chain, flow]
        if len(chain) > MAX_CHAIN:
            raise _TooDeep
        if target.role in ("work", "end", "parallel"):
            return [_Route(target, chain)]
        if target.id in visiting:
            self.problem(
                _("gateways %(id)s loop back to themselves without a task between them") % {"id": target.id},
                element=target.element,
            )
            return []
        if not target.out:
            self.problem(
                _("%(type)s %(id)s has no outgoing flow; the path ends there")
                % {"type": target.tag, "id": target.id},
                element=target.element,
                hint=_("connect it to a task or an end event"),
            )
            return []
        found: list[_Route] = []
        for out in target.out:
            self.spend(1)
            found += self.routes(out, chain, visiting | {target.id})
        return found

    def spend(self, steps: int) -> None:
        """Count walking steps: a lattice of gateways has exponentially many paths, and a file built
        for it must cost an error, not the server's afternoon."""
        self.work_done += steps
        if self.work_done > MAX_WALK_STEPS:
            raise _TooTangled

    def route_condition(self, route: _Route, node: _Node) -> str:
        parts = []
        for flow in route.flows:
            text = flow.condition_text
            if not text:
                continue
            expression, unwrapped = _condition(text)
            problem = expression_check(expression) if expression else _("empty")
            if problem:
                self.problem(
                    _("condition %(text)r on flow %(flow)s is not CEL (%(problem)s); dropped")
                    % {"text": text[:200], "flow": flow.id, "problem": problem},
                    element=flow.element,
                    hint=_("write it as CEL over the form field ids, e.g. length_m > 100"),
                )
                continue
            language = None
            condition_element = next((c for c in flow.element if _local(c) == "conditionExpression"), None)
            if condition_element is not None:
                language = condition_element.get("language")
            if unwrapped or (
                language and language not in (CEL_LANGUAGE, "cel") and not _p(flow.element, "when")
            ):
                self.problem(
                    _("condition %(text)r on flow %(flow)s read as the CEL expression %(cel)r")
                    % {"text": text[:200], "flow": flow.id, "cel": expression},
                    element=flow.element,
                    hint=_("check it means the same in CEL"),
                )
            parts.append(expression)
        if len(parts) > 1:
            return " && ".join(f"({part})" for part in parts)
        return parts[0] if parts else ""

    def back_targets(self) -> set[tuple[str, str]]:
        """(source, target) pairs of flows that close a cycle, found by a walk from the start events."""
        back: set[tuple[str, str]] = set()
        state: dict[str, int] = {}
        roots = [n.id for n in self.nodes.values() if n.role == "start"] + list(self.nodes)
        for root in roots:
            if root in state:
                continue
            state[root] = 1
            stack = [(root, iter(self.nodes[root].out))]
            while stack:
                node_id, flows = stack[-1]
                flow = next(flows, None)
                if flow is None:
                    state[node_id] = 2
                    stack.pop()
                elif state.get(flow.target) == 1:
                    back.add((flow.source, flow.target))
                elif flow.target not in state:
                    state[flow.target] = 1
                    stack.append((flow.target, iter(self.nodes[flow.target].out)))
        return back

    def outcomes(self, node: _Node, kind: str, back: set) -> list[dict]:
        routes = [route for flow in node.out for route in self.routes(flow, [], frozenset())]
        if not routes:
            self.problem(
                _("step `%(id)s` has no way out; a work step needs at least one outcome")
                % {"id": node.step_id},
                element=node.element,
                hint=_("connect it to the next task or an end event"),
            )
            return []
        if len(node.out) > 1:
            self.problem(
                _("step `%(id)s` has %(count)s outgoing flows without a gateway; read as a choice between them "
                  "(BPMN would run them all)") % {"id": node.step_id, "count": len(node.out)},
                element=node.element,
                hint=_("put an exclusive or a parallel gateway after the task"),
            )  # fmt: skip
        forward_default = "done" if kind in ("automatic", "payment", "citizen", "inspection") else "approve"
        said_outcomes = [self.said_outcome(route) for route in routes]
        # Guesses are made default-flow first (BPMN's default is the path taken "otherwise", the
        # natural approve/done), but the outcomes keep the file's order, which may carry meaning.
        defaults = self.default_flows
        order = sorted(range(len(routes)), key=lambda i: not any(f.id in defaults for f in routes[i].flows))
        guessed: dict[int, tuple[str, str]] = {}
        forward_taken = False
        for index in order:
            if said_outcomes[index]:
                continue
            route = routes[index]
            result = self.end_result(route.target) if route.target.role == "end" else ""
            if result == "rejected":
                guessed[index] = ("reject", _("it ends the case as rejected"))
            elif len(routes) > 1 and (
                any((f.source, f.target) in back for f in route.flows) or route.target is node
            ):
                # Only beside other paths is a loop a "return": a lone path back (the citizen's
                # corrections going to the check again) is simply the step being done.
                guessed[index] = ("return", _("it leads back to an earlier step"))
            elif not forward_taken:
                guessed[index] = (forward_default, _("it is the first or default path"))
                forward_taken = True
            elif self.route_condition_text(route):
                guessed[index] = (forward_default, _("it is a conditional path"))
            else:
                guessed[index] = ("refer", _("it is another forward path"))
        outcomes: list[dict] = []
        for index, route in enumerate(routes):
            said = [f for f in route.flows if f.says_something]
            decisive = said[-1] if said else route.flows[-1]
            to = route.target.step_id
            outcome = said_outcomes[index]
            if not outcome:
                outcome, reason = guessed[index]
                if len(routes) > 1:
                    self.problem(
                        _("the path from `%(task)s` to `%(to)s` (flow %(flow)s, named %(name)r) became outcome "
                          "`%(outcome)s`: %(reason)s") % {
                            "task": node.step_id, "to": to, "flow": decisive.id, "name": decisive.name,
                            "outcome": outcome, "reason": reason,
                        },
                        element=decisive.element,
                        hint=_("name the flow approve/تایید, reject/رد, return/بازگشت, refer/ارجاع or done/انجام"),
                    )  # fmt: skip
            entry = {"outcome": outcome, "to": to}
            when = self.route_condition(route, node)
            if when:
                entry["when"] = when
            label = self.flow_label(decisive, ours=bool(decisive.outcome))
            if label:
                entry["label"] = label
            if not any(o["outcome"] == outcome and o["to"] == to and o.get("when") == entry.get("when")
                       for o in outcomes):  # fmt: skip
                outcomes.append(entry)
        return outcomes

    @staticmethod
    def said_outcome(route: _Route) -> str:
        """The outcome the route's flows name: `pishkhan:outcome`, else a word in a flow name
        (the flow nearest the target first)."""
        for flow in reversed(route.flows):
            if flow.outcome in OUTCOMES:
                return flow.outcome
        for flow in reversed(route.flows):
            named = outcome_from_name(flow.name)
            if named:
                return named
        return ""

    @staticmethod
    def route_condition_text(route: _Route) -> bool:
        return any(flow.condition_text for flow in route.flows)

    @staticmethod
    def flow_label(flow: _Flow, *, ours: bool) -> dict | None:
        # Our own export writes the outcome's label in pishkhan:fa/en and a default name otherwise;
        # a foreign file's flow name is what the modeller wrote on the arrow, worth keeping as the label.
        if ours:
            if not _p(flow.element, "fa"):
                return None
            label = {"fa": _p(flow.element, "fa")}
            if _p(flow.element, "en"):
                label["en"] = _p(flow.element, "en")
            return label
        if not flow.name or outcome_words_only(flow.name):
            return None  # "approve/تایید" says the outcome, which is kept; it is no label
        return {"fa": flow.name[:5000]}

    def end_result(self, node: _Node) -> str:
        said = _p(node.element, "result")
        if said in END_RESULTS:
            return said
        return end_result_from_name(node.name)

    # steps

    def title(self, element, name: str) -> dict | None:
        fa = _p(element, "fa") or name
        if not fa:
            return None
        title = {"fa": fa[:5000]}
        if _p(element, "en"):
            title["en"] = _p(element, "en")[:5000]
        return title

    def build_steps(self) -> list[dict]:
        back = self.back_targets()
        self.default_flows = {
            n.element.get("default") for n in self.nodes.values() if n.element.get("default")
        }
        steps: list[dict] = []
        for node in self.nodes.values():
            if node.role == "work":
                steps.append(self.work_step(node, back))
            elif node.role == "end":
                steps.append(self.end_step(node))
            elif node.role == "parallel":
                steps.extend(self.parallel_steps(node))
        return steps

    def work_step(self, node: _Node, back: set) -> dict:
        element = node.element
        said_kind = _p(element, "kind")
        kind = said_kind if said_kind in WORK_KINDS else _TASK_KINDS.get(node.tag, "review")
        if (
            said_kind not in WORK_KINDS
            and node.tag in ("task", "userTask", "manualTask")
            and kind_from_name(node.name)
        ):
            kind = kind_from_name(node.name)
            self.problem(
                _("step `%(step)s` (%(name)r) is of kind `%(kind)s`, guessed from its name")
                % {"step": node.step_id, "name": node.name, "kind": kind},
                element=element,
            )
        step: dict = {"id": node.step_id}
        title = self.title(element, node.name)
        if title:
            step["title"] = title
        step["role"] = self.step_role(node)
        step["kind"] = kind
        if kind == "automatic":
            action = _p(element, "action")
            if action not in AUTOMATIC_ACTIONS:
                action = (
                    "notify" if node.tag == "sendTask" else (action_from_name(node.name) or "integration")
                )
                self.problem(
                    _("automatic step `%(id)s` (a %(type)s) got the action `%(action)s`")
                    % {"id": node.step_id, "type": node.tag, "action": action},
                    element=element,
                    hint=_("automatic actions are issue_document, notify and integration"),
                )
            step["action"] = action
            if action == "issue_document":
                output = _p(element, "output")
                step["output"] = output if _ID.match(output) else self.add_output(node, title)
        step["deadline_days"] = self.deadline(node)
        law = _p(element, "law")
        if law:
            step["legal_basis"] = {
                "law": law,
                **({"article": _p(element, "article")} if _p(element, "article") else {}),
            }
        for flag in ("discretionary", "signature"):
            if _p(element, flag) == "true":
                step[flag] = True
        step["outcomes"] = self.outcomes(node, kind, back)
        return step

    def add_output(self, node: _Node, title: dict | None) -> str:
        """An output for a step that issues a document the file does not describe, so the definition
        stays complete; the kind is read from the step's name (certificate, permit, else letter)."""
        taken = {o["id"] for o in self.outputs}
        output_id = base = f"{node.step_id[:MAX_ID_LENGTH]}_document"
        number = 2
        while output_id in taken:
            output_id, number = f"{base}_{number}", number + 1
        folded = search_fold(node.name)
        if any(word in folded for word in ("گواهی", "certificate", "پایان کار", "پایانکار")):
            kind = "certificate"
        elif any(word in folded for word in ("مجوز", "پروانه", "permit", "licen", "جواز")):
            kind = "permit"
        else:
            kind = "letter"
        self.outputs.append({"id": output_id, "kind": kind, "title": title or {"fa": node.name or output_id}})
        self.problem(
            _("step `%(step)s` issues a document the file does not describe; the output `%(output)s` (%(kind)s) "
              "was added for it") % {"step": node.step_id, "output": output_id, "kind": kind},
            element=node.element,
            hint=_("give the output its template and validity under outputs:"),
        )  # fmt: skip
        return output_id

    def step_role(self, node: _Node) -> str:
        said = _p(node.element, "role")
        if _ID.match(said):
            return said
        if node.id in self.lane_roles:
            return self.lane_roles[node.id]
        self.problem(
            _("step `%(step)s` is in no lane; it was given the role `clerk`") % {"step": node.step_id},
            element=node.element,
            hint=_("put the task in the lane of the role that does it"),
        )
        return "clerk"

    def deadline(self, node: _Node) -> float:
        said = _p(node.element, "deadlineDays")
        if said:
            days = _number(said)
            if days is not None:
                return days
            self.problem(
                _("pishkhan:deadlineDays %(value)r on %(id)s is no number of days")
                % {"value": said, "id": node.id},
                element=node.element,
            )
        if node.id in self.deadlines:
            return self.deadlines[node.id][0]
        self.problem(
            _("step `%(step)s` has no deadline; it was given %(days)s working day")
            % {"step": node.step_id, "days": DEFAULT_DEADLINE_DAYS},
            element=node.element,
            hint=_("set deadline_days, or draw a timer boundary event with a duration such as P5D"),
        )
        return DEFAULT_DEADLINE_DAYS

    def end_step(self, node: _Node) -> dict:
        step: dict = {"id": node.step_id, "kind": "end"}
        title = self.title(node.element, node.name)
        if title:
            step["title"] = title
        result = self.end_result(node)
        if not result:
            result = "approved"
            self.problem(
                _("end step `%(id)s` (%(name)r) says nothing of the result; read as `approved`")
                % {"id": node.step_id, "name": node.name},
                element=node.element,
                hint=_("name it e.g. 'rejected/رد شد' or 'withdrawn/انصراف'"),
            )
        step["result"] = result
        return step

    def targets(self, node: _Node, flows: list[_Flow]) -> list[str]:
        found: list[str] = []
        for flow in flows:
            routes = self.routes(flow, [], frozenset())
            if len(routes) > 1 or any(
                len(r.flows) > 1 and any(f.condition_text for f in r.flows) for r in routes
            ):
                self.problem(
                    _(
                        "a path from parallel gateway %(id)s runs into a decision; each of its ends is read as a branch"
                    )
                    % {"id": node.id},
                    element=flow.element,
                )
            found += [r.target.step_id for r in routes if r.target.step_id not in found]
        return found

    def parallel_steps(self, node: _Node) -> list[dict]:
        steps = []
        fork_id = node.step_id if not node.is_join else node.fork_step_id
        if node.is_join:
            step: dict = {"id": node.step_id, "kind": "join"}
            title = self.title(node.element, node.name)
            if title:
                step["title"] = title
            fork = self.nodes.get(node.join_of)
            step["join_of"] = fork.fork_step_id or fork.step_id if fork and fork.step_id else node.join_of
            if node.is_fork:
                step["next"] = node.fork_step_id
            else:
                nexts = self.targets(node, node.out)
                if len(nexts) != 1:
                    self.problem(
                        _("parallel join %(id)s must lead to exactly one next step; it leads to %(count)s")
                        % {"id": node.id, "count": len(nexts)},
                        element=node.element,
                    )
                if nexts:
                    step["next"] = nexts[0]
            steps.append(step)
        if node.is_fork:
            step = {"id": fork_id, "kind": "fork"}
            title = self.title(node.element, node.name)
            if title and not node.is_join:
                step["title"] = title
            step["branches"] = self.targets(node, node.out)
            steps.append(step)
        return steps

    def find_start(self, process) -> str:
        starts = [n for n in self.nodes.values() if n.role == "start"]
        for extra in starts[1:]:
            self.unmapped(extra.element, _("another start event; the process starts at the first one"))
        if starts:
            routes = [r for flow in starts[0].out for r in self.routes(flow, [], frozenset())]
            if len(routes) > 1:
                self.problem(
                    _("the start event leads to %(count)s places; the process starts at the first, %(id)s")
                    % {"count": len(routes), "id": routes[0].target.step_id},
                    element=starts[0].element,
                )
            if routes:
                return routes[0].target.step_id
            self.error(_("the start event leads nowhere"), element=starts[0].element)
        steps = [n for n in self.nodes.values() if n.role in ("work", "parallel") and n.step_id]
        first = next((n for n in steps if not n.inc), steps[0] if steps else None)
        if first is None:
            self.error(_("the process has no task to start with"), element=process)
            return ""
        self.problem(
            _("the process has no start event; it starts at %(id)s") % {"id": first.step_id},
            element=process,
            hint=_("draw a start event before the first task"),
        )
        return first.step_id

    # the definition

    def assemble(self, process, participant, steps: list[dict], start: str) -> dict:
        name = ""
        if participant is not None:
            name = (participant.get("name") or "").strip()
        name = name or (process.get("name") or "").strip()
        title = self.title(process, name)
        code = self.definition_code(process, name)
        if not title:
            title = {"fa": code}
            self.problem(
                _("the process has no name; its title is its code"),
                element=process,
                hint=_("name the pool or the process in the modeller"),
            )
        parts: dict = {"title": title, **self.carried_parts(process)}
        documentation = next((c for c in process if _local(c) == "documentation"), None)
        if "description" not in parts and documentation is not None and (documentation.text or "").strip():
            parts["description"] = {"fa": documentation.text.strip()[:5000]}
        roles = [role for role in self.roles.values() if role["code"] not in STANDARD_ROLES]
        if roles:
            parts["roles"] = roles
        parts["start"] = start
        parts["steps"] = steps
        outputs = list(parts.get("outputs") or [])
        outputs += [o for o in self.outputs if o["id"] not in {known.get("id") for known in outputs}]
        if outputs:
            parts["outputs"] = outputs
        # Our own export carries the form (possibly none); only a foreign file needs fields made up.
        if process.find(f"{{{BPMN_NS}}}extensionElements/{{{PISHKHAN_NS}}}definition") is None:
            fields = self.condition_fields(steps)
            if fields:
                parts["fields"] = fields
        data: dict = {"schema": "pishkhan/process/1", "code": code, "version": 1, "status": "draft"}
        data.update((key, parts[key]) for key in _DEFINITION_ORDER if key in parts)
        return data

    def carried_parts(self, process) -> dict:
        """What our own export carries beside the diagram (fields, documents, fees, outputs, texts) in
        `<pishkhan:definition>`, JSON inside the process's extensionElements; {} for other files."""
        carrier = process.find(f"{{{BPMN_NS}}}extensionElements/{{{PISHKHAN_NS}}}definition")
        if carrier is None:
            return {}
        try:
            carried = json.loads(carrier.text or "")
        except (ValueError, RecursionError):
            carried = None
        if not isinstance(carried, dict):
            self.problem(
                _("the Pishkhan part of the file (fields, documents, fees) is damaged and was not read"),
                element=carrier,
                hint=_("export the process again, or add them to the definition by hand"),
            )
            return {}
        return {key: carried[key] for key in CARRIED_KEYS if key in carried}

    def condition_fields(self, steps: list[dict]) -> list[dict]:
        """Form fields for the names the conditions read: a foreign file has no form, but every name
        a condition reads must be a field. Their type is read from how the conditions use them."""
        uses: dict[str, list[str]] = {}
        for step in steps:
            for outcome in step.get("outcomes", []):
                for name in sorted(expression_names(outcome.get("when", ""))):
                    uses.setdefault(name, []).append(outcome["when"])
        fields = []
        for name, expressions in uses.items():
            if not _ID.match(name):
                continue  # not a possible field id; the validator will name it
            field_type = _field_type(name, expressions)
            fields.append({"id": name, "type": field_type, "label": {"fa": name}})
            self.problem(
                _("the conditions read `%(name)s`, so a form field `%(name)s` (%(type)s) was added")
                % {"name": name, "type": field_type},
                hint=_("give it a Persian label and check its type"),
            )
        return fields

    def definition_code(self, process, name: str) -> str:
        if self.code is not None:
            if _CODE.match(self.code):
                return self.code
            slug = re.sub(r"-+", "-", _identifier(self.code).replace("_", "-")).strip("-") or "imported"
            self.problem(
                _("the code %(given)r is not a valid service code; using %(code)r")
                % {"given": self.code, "code": slug}
            )
            return slug
        said = _p(process, "code")
        if _CODE.match(said):
            return said
        candidates = [
            re.sub(r"^process[-_]+", "", process.get("id") or "", flags=re.I),
            name,
        ]
        for candidate in candidates:
            slug = re.sub(r"-+", "-", _identifier(candidate).replace("_", "-")).strip("-")
            # At least a short word: `Process_1` must not become the code `n-1`.
            if re.search(r"[a-z]{3}", slug) and not _GENERATED.search(slug) and _CODE.match(slug):
                code = slug[:60]
                break
        else:
            code = _hashed("process", name or process.get("id") or "").replace("_", "-")
        self.problem(
            _("the service code %(code)r was made from the process id or name") % {"code": code},
            element=process,
            hint=_("pass --code to choose another"),
        )
        return code


def bpmn_import(data: bytes, *, filename: str = "", code: str | None = None) -> BpmnImport:
    """Read a BPMN 2.0 file into a process definition dict (see the module docstring for the mapping).

    `data` is the file's bytes; `filename` only labels problems; `code`, when given, is the service
    code of the result (else it comes from the file). Returns a BpmnImport whose `data` is None when
    the file could not be read as BPMN (see `.problems`). Never raises: hostile or broken input,
    and any failure of this module, come back as problems."""
    result = BpmnImport()
    reader = _Reader(result=result, filename=filename, code=code)
    try:
        reader.read(data)
    except (_TooTangled, RecursionError) as error:
        result.data = None
        too_deep = isinstance(error, _TooDeep | RecursionError)
        result.problems.append(
            Problem(
                file=filename,
                line=None,
                path="",
                message=_("the process chains too many gateways and events without a task between them")
                if too_deep
                else _("the process has too many paths through its gateways to be read"),
                hint=_("split it into smaller processes, or put tasks between the gateways"),
                severity="error",
            )
        )
    except Exception as error:  # the promise is "never raises": a bug here must not take the caller down
        result.data = None
        result.problems.append(
            Problem(
                file=filename,
                line=None,
                path="",
                message=_("the BPMN importer failed on this file (%(error)s)")
                % {"error": type(error).__name__},
                hint=_("please report it with the file attached"),
                severity="error",
            )
        )
    return result
