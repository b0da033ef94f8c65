"""Write a process definition as BPMN 2.0 XML, with a diagram bpmn-js and Camunda Modeler can draw.

    bpmn_export(definition, *, language="fa") -> str

The mapping (the reverse of `bpmn_import`, see `catalog.bpmn` for both directions):

- one collaboration with one participant (the service) and one process; one lane per role (the
  roles the file declares, then the standard roles its steps name);
- a start event before `definition.start`;
- work steps become tasks by kind: review, inspection, signature and payment a `userTask`, citizen a
  `receiveTask` (the case waits for the citizen), automatic a `serviceTask` (a `sendTask` when the
  action is `notify`);
- a step with one outcome gets one sequence flow; a step with several gets an exclusive gateway
  (`Gateway_<step id>`) whose outgoing flows are the outcomes, conditional ones with a CEL
  `conditionExpression`;
- fork and join become parallel gateways, end steps end events;
- everything BPMN has no word for travels in attributes of our own namespace (`PISHKHAN_NS`):
  `pishkhan:kind`, `role`, `deadlineDays`, `discretionary`, `signature`, `action`, `output`, `law`,
  `article`, `result`, `joinOf` on nodes, `outcome` and `when` on flows, `fa`/`en` for both texts of a
  name, `role` and `declared` on lanes, `code` and `version` on the process;
- the rest of the definition (documents, fields, fees, outputs, texts: `CARRIED_KEYS`) as JSON in a
  `<pishkhan:definition>` element in the process's extensionElements.

So `bpmn_import` gives back the same definition, version and status aside.

The diagram is a layered layout: a node's column is its longest-path rank from the start event
(return and reject loops, and any other edge that closes a cycle, left out), its row band is its
role's lane, and nodes sharing a lane and a column stack (a node takes its predecessor's row when
free). Edges leave a shape on its right and enter the next on its left; vertical runs stay in the
gaps between columns, horizontal runs go along a row only where no shape sits on it, else — and
always for loops back to the left — along a channel at the bottom of the lower lane. The result is
wide for a long process (the 129-step permit is ~22,000 px) but nothing overlaps and no edge crosses
a shape.

Outcomes that name a step the definition lacks are left out: the exporter expects a definition that
passed validation and draws what can be drawn of one that did not."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field

from lxml import etree

from pishkhan.accounts.roles import STANDARD_ROLES as STANDARD_ROLE_ROWS

from .bpmn_vocabulary import (
    BPMN_NS,
    BPMNDI_NS,
    CARRIED_KEYS,
    CEL_LANGUAGE,
    DC_NS,
    DI_NS,
    OUTCOME_NAMES,
    PISHKHAN_NS,
    XSI_NS,
)
from .definition import Definition, Step, Text, definition_to_dict

NSMAP = {
    "bpmn": BPMN_NS,
    "bpmndi": BPMNDI_NS,
    "dc": DC_NS,
    "di": DI_NS,
    "xsi": XSI_NS,
    "pishkhan": PISHKHAN_NS,
}
EXPORTER = "Pishkhan"
EXPORTER_VERSION = "pishkhan/process/1"

_TASK_TAGS = {
    "review": "userTask",
    "inspection": "userTask",
    "signature": "userTask",
    "payment": "userTask",
    "citizen": "receiveTask",
    "automatic": "serviceTask",
}
_STANDARD_ROLE_TITLES = {code: Text(fa=fa, en=en) for code, fa, en, _ in STANDARD_ROLE_ROWS}

# Shape sizes are bpmn-js's defaults, so a file opened and saved there does not jump around.
_SIZES = {"task": (100, 80), "gateway": (50, 50), "event": (36, 36)}
_POOL_X, _POOL_Y = 100, 60
_POOL_HEADER = 30  # the participant's label band on the left
_LANE_PADDING = 50  # from a lane's left edge to the first column
_COLUMN_GAP = 60
_ROW_HEIGHT = 120
_CHANNEL = 40  # at the bottom of each lane, where loops run back
_RIGHT_PADDING = 50


@dataclass
class _Node:
    id: str
    tag: str
    shape: str
    name: str = ""
    attrs: dict[str, str] = field(default_factory=dict)
    lane: str | None = None
    incoming: list[str] = field(default_factory=list)
    outgoing: list[str] = field(default_factory=list)
    default_flow: str = ""
    rank: int = 0
    row: int = 0
    cx: float = 0
    cy: float = 0

    @property
    def size(self) -> tuple[int, int]:
        return _SIZES[self.shape]


@dataclass
class _Flow:
    id: str
    source: str
    target: str
    name: str = ""
    attrs: dict[str, str] = field(default_factory=dict)
    condition: str = ""
    outcome: str = ""  # the outcome kind, "" for plumbing (task → gateway, start, fork, join)
    back: bool = False


@dataclass
class _Lane:
    role: str
    name: str
    attrs: dict[str, str]
    top: float = 0
    rows: int = 1

    @property
    def height(self) -> float:
        return self.rows * _ROW_HEIGHT + _CHANNEL


def _q(namespace: str, tag: str) -> str:
    return f"{{{namespace}}}{tag}"


def _p(name: str) -> str:
    return _q(PISHKHAN_NS, name)


def _number(value: float) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)


def _text_attrs(text: Text | None) -> dict[str, str]:
    if not text:
        return {}
    return {"fa": text.fa, **({"en": text.en} if text.en else {})}


class _Graph:
    """The nodes and flows of the exported process, before and after layout."""

    def __init__(self, definition: Definition, language: str):
        self.definition = definition
        self.language = language
        self.nodes: dict[str, _Node] = {}
        self.flows: list[_Flow] = []
        self.lanes: list[_Lane] = []
        self.lanes_drawn: list[_Lane] = []
        self.step_ids = {step.id for step in definition.steps}

    def text(self, value: Text | None) -> str:
        return value.get(self.language) if value else ""

    def add_node(self, node: _Node) -> _Node:
        self.nodes[node.id] = node
        return node

    def add_flow(self, *, source: str, target: str, **details) -> _Flow | None:
        if target not in self.nodes and target not in self.step_ids:
            return None
        flow = _Flow(id=f"Flow_{len(self.flows) + 1}", source=source, target=target, **details)
        self.flows.append(flow)
        return flow

    # -- model -----------------------------------------------------------------------------------

    def build(self) -> None:
        d = self.definition
        for step in d.steps:
            self.add_node(self.step_node(step))
        start = _Node(id="StartEvent_1", tag="startEvent", shape="event", name="شروع" if self.fa else "Start")
        self.nodes = {start.id: start, **self.nodes}
        if d.start:
            self.add_flow(source=start.id, target=d.start)
        for step in d.steps:
            self.step_flows(step)
        for flow in self.flows:
            self.nodes[flow.source].outgoing.append(flow.id)
            self.nodes[flow.target].incoming.append(flow.id)

    @property
    def fa(self) -> bool:
        return not self.language.startswith("en")

    def step_node(self, step: Step) -> _Node:
        attrs = {"kind": step.kind, **_text_attrs(step.title)}
        name = self.text(step.title)
        if step.kind == "end":
            return _Node(
                step.id, "endEvent", "event", name, attrs | ({"result": step.result} if step.result else {})
            )
        if step.kind in ("fork", "join"):
            if step.join_of:
                attrs["joinOf"] = step.join_of
            return _Node(step.id, "parallelGateway", "gateway", name, attrs)
        if step.role:
            attrs["role"] = step.role
        attrs["deadlineDays"] = _number(step.deadline_days or 0)
        for flag in ("discretionary", "signature"):
            if getattr(step, flag):
                attrs[flag] = "true"
        for key in ("action", "output"):
            if getattr(step, key):
                attrs[key] = getattr(step, key)
        if step.legal_basis:
            attrs["law"] = step.legal_basis.law
            if step.legal_basis.article:
                attrs["article"] = step.legal_basis.article
        tag = _TASK_TAGS.get(step.kind, "task")
        if step.kind == "automatic" and step.action == "notify":
            tag = "sendTask"
        return _Node(step.id, tag, "task", name, attrs, lane=step.role or None)

    def outcome_details(self, outcome) -> dict:
        attrs = {"outcome": outcome.outcome, **_text_attrs(outcome.label)}
        if outcome.when:
            attrs["when"] = outcome.when
        fa, en = OUTCOME_NAMES.get(outcome.outcome, (outcome.outcome, outcome.outcome))
        name = self.text(outcome.label) or (fa if self.fa else en)
        return {"name": name, "attrs": attrs, "condition": outcome.when, "outcome": outcome.outcome}

    def step_flows(self, step: Step) -> None:
        if step.kind == "fork":
            for branch in step.branches:
                self.add_flow(source=step.id, target=branch)
            return
        if step.kind == "join":
            if step.next:
                self.add_flow(source=step.id, target=step.next)
            return
        outcomes = [o for o in step.outcomes if o.to in self.step_ids]
        if len(outcomes) == 1:
            self.add_flow(source=step.id, target=outcomes[0].to, **self.outcome_details(outcomes[0]))
        elif len(outcomes) > 1:
            gateway = self.add_node(
                _Node(f"Gateway_{step.id}", "exclusiveGateway", "gateway", attrs={"decisionOf": step.id})
            )
            gateway.lane = step.role or None
            self.add_flow(source=step.id, target=gateway.id)
            flows = [
                self.add_flow(source=gateway.id, target=o.to, **self.outcome_details(o)) for o in outcomes
            ]
            # BPMN's default flow must be unconditional; it only means something beside conditional ones.
            if any(o.when for o in outcomes):
                gateway.default_flow = next((f.id for f in flows if f and not f.condition), "")

    # -- lanes -----------------------------------------------------------------------------------

    def build_lanes(self) -> None:
        d = self.definition
        declared = {role.code: role for role in d.roles}
        codes = [role.code for role in d.roles]
        codes += [s.role for s in d.steps if s.is_work and s.role and s.role not in codes]
        codes = list(dict.fromkeys(codes))
        for code in codes:
            title = declared[code].title if code in declared else _STANDARD_ROLE_TITLES.get(code)
            attrs = {"role": code, **_text_attrs(declared[code].title if code in declared else None)}
            if code in declared:
                attrs["declared"] = "true"
            self.lanes.append(_Lane(role=code, name=self.text(title) or code, attrs=attrs))

    # -- layout ----------------------------------------------------------------------------------

    def mark_back_edges(self) -> None:
        """Find the edges that close cycles with a depth-first walk from the start event that
        follows forward outcomes first, so it is the return/reject flows that close the loops."""
        preference = {"": 0, "approve": 0, "done": 0, "refer": 1, "reject": 2, "return": 3}
        out: dict[str, list[_Flow]] = defaultdict(list)
        for flow in self.flows:
            out[flow.source].append(flow)
        for flows in out.values():
            flows.sort(key=lambda f: preference.get(f.outcome, 1))
        state: dict[str, int] = {}  # 1 on the walk's path, 2 finished
        for root in self.nodes:
            if root in state:
                continue
            state[root] = 1
            stack = [(root, iter(out[root]))]
            while stack:
                node, edges = stack[-1]
                flow = next(edges, None)
                if flow is None:
                    state[node] = 2
                    stack.pop()
                elif state.get(flow.target) == 1:
                    flow.back = True
                elif flow.target not in state:
                    state[flow.target] = 1
                    stack.append((flow.target, iter(out[flow.target])))

    def rank_nodes(self) -> list[_Node]:
        """Longest-path ranks over the forward edges; returns the nodes in topological order."""
        indegree = dict.fromkeys(self.nodes, 0)
        out: dict[str, list[str]] = defaultdict(list)
        for flow in self.flows:
            if not flow.back:
                indegree[flow.target] += 1
                out[flow.source].append(flow.target)
        ready = [node_id for node_id, degree in indegree.items() if degree == 0]
        order: list[_Node] = []
        while ready:
            node = self.nodes[ready.pop(0)]
            order.append(node)
            for target in out[node.id]:
                self.nodes[target].rank = max(self.nodes[target].rank, node.rank + 1)
                indegree[target] -= 1
                if indegree[target] == 0:
                    ready.append(target)
        return order

    def assign_lanes(self, order: list[_Node]) -> None:
        if not self.lanes:
            return
        sources: dict[str, list[str]] = defaultdict(list)
        targets: dict[str, list[str]] = defaultdict(list)
        for flow in self.flows:
            if not flow.back:
                sources[flow.target].append(flow.source)
                targets[flow.source].append(flow.target)
        known = {lane.role for lane in self.lanes}
        for node in order:
            if node.lane not in known:
                node.lane = next((self.nodes[s].lane for s in sources[node.id] if self.nodes[s].lane), None)
        for node in reversed(order):
            if node.lane is None:
                node.lane = next((self.nodes[t].lane for t in targets[node.id] if self.nodes[t].lane), None)
        for node in self.nodes.values():
            if node.lane is None:
                node.lane = self.lanes[0].role
        # Lanes are drawn top to bottom in the order the process first reaches them, unused roles
        # last; the XML keeps the definition's order, which is the order import gives the roles back.
        first_rank = {}
        for node in order:
            first_rank.setdefault(node.lane, node.rank)
        self.lanes_drawn = sorted(self.lanes, key=lambda lane: first_rank.get(lane.role, len(self.nodes) + 1))

    def place(self, order: list[_Node]) -> None:
        lane_of = {lane.role: lane for lane in self.lanes}
        used: dict[tuple[str | None, int], set[int]] = defaultdict(set)
        predecessor: dict[str, str] = {}
        for flow in self.flows:
            if not flow.back:
                predecessor.setdefault(flow.target, flow.source)
        for node in sorted(order, key=lambda n: n.rank):
            # A node sits in its predecessor's row when that row is free, so straight runs stay straight.
            before = self.nodes.get(predecessor.get(node.id, ""))
            row = before.row if before is not None and before.lane == node.lane else 0
            taken = used[(node.lane, node.rank)]
            while row in taken:
                row += 1
            taken.add(row)
            node.row = row
            if node.lane in lane_of:
                lane_of[node.lane].rows = max(lane_of[node.lane].rows, row + 1)

        columns = max((n.rank for n in self.nodes.values()), default=0) + 1
        widths = [0] * columns
        for node in self.nodes.values():
            widths[node.rank] = max(widths[node.rank], node.size[0])
        self.column_left = []
        x = _POOL_X + _POOL_HEADER + _LANE_PADDING
        for width in widths:
            self.column_left.append(x)
            x += width + _COLUMN_GAP
        self.column_width = widths
        self.pool_width = x - _COLUMN_GAP + _RIGHT_PADDING - _POOL_X

        if not self.lanes:
            # No roles at all: one band, drawn without a lane.
            self.band = _Lane(role="", name="", attrs={}, top=_POOL_Y)
            self.band.rows = max((n.row for n in self.nodes.values()), default=0) + 1
        y = _POOL_Y
        for lane in self.lanes_drawn:
            lane.top = y
            y += lane.height
        self.pool_height = (y - _POOL_Y) if self.lanes else self.band.height
        for node in self.nodes.values():
            lane = lane_of.get(node.lane, self.lanes[0] if self.lanes else self.band)
            node.cx = self.column_left[node.rank] + self.column_width[node.rank] / 2
            node.cy = lane.top + node.row * _ROW_HEIGHT + _ROW_HEIGHT / 2
        self.lane_of = lane_of

    def lane_for(self, node: _Node) -> _Lane:
        return self.lane_of.get(node.lane, self.lanes[0] if self.lanes else self.band)

    def row_is_clear(self, y: float, after: int, before: int) -> bool:
        """No shape sits on the horizontal line at `y` between columns `after` and `before`."""
        return not any(after < rank < before for rank in self.ranks_at_y.get(round(y), ()))

    def waypoints(self, flow: _Flow) -> list[tuple[float, float]]:
        """Orthogonal waypoints from the source's right side to the target's left side. Vertical
        runs stay in the gaps between columns, where no shape is; horizontal runs go along a row only
        where it is clear, else along the channel at the bottom of the lower lane (always the case
        for loops, which run back to the left)."""
        source, target = self.nodes[flow.source], self.nodes[flow.target]
        (sw, _sh), (tw, _th) = source.size, target.size
        start = (source.cx + sw / 2, source.cy)
        end = (target.cx - tw / 2, target.cy)
        gap_after = self.column_left[source.rank] + self.column_width[source.rank] + _COLUMN_GAP / 2
        gap_before = self.column_left[target.rank] - _COLUMN_GAP / 2
        if not flow.back and target.rank > source.rank:
            if abs(source.cy - target.cy) < 1 and self.row_is_clear(source.cy, source.rank, target.rank):
                return [start, end]
            if self.row_is_clear(target.cy, source.rank, target.rank):
                return [start, (gap_after, source.cy), (gap_after, target.cy), end]
            if self.row_is_clear(source.cy, source.rank, target.rank):
                return [start, (gap_before, source.cy), (gap_before, target.cy), end]
        lower = max(self.lane_for(source), self.lane_for(target), key=lambda lane: lane.top)
        # The slot spreads edges sharing a channel a few pixels apart so they stay tellable.
        slot = self.channel_use[lower.top] % 4
        self.channel_use[lower.top] += 1
        y = lower.top + lower.rows * _ROW_HEIGHT + 8 + slot * 8
        return [start, (gap_after, source.cy), (gap_after, y), (gap_before, y), (gap_before, target.cy), end]

    # -- XML -------------------------------------------------------------------------------------

    def xml(self) -> str:
        d = self.definition
        title = self.text(d.title)
        code = d.code or "process"
        process_id = f"Process_{code}"
        root = etree.Element(_q(BPMN_NS, "definitions"), nsmap=NSMAP)
        root.set("id", "Definitions_1")
        root.set("targetNamespace", f"{PISHKHAN_NS}/process/{code}")
        root.set("exporter", EXPORTER)
        root.set("exporterVersion", EXPORTER_VERSION)

        collaboration = etree.SubElement(root, _q(BPMN_NS, "collaboration"), id="Collaboration_1")
        participant = etree.SubElement(collaboration, _q(BPMN_NS, "participant"), id="Participant_1")
        if title:
            participant.set("name", title)
        participant.set("processRef", process_id)

        process = etree.SubElement(root, _q(BPMN_NS, "process"), id=process_id)
        if title:
            process.set("name", title)
        process.set("isExecutable", "false")
        for key, value in {"code": d.code, "version": str(d.version), **_text_attrs(d.title)}.items():
            process.set(_p(key), value)
        carried = {key: value for key, value in definition_to_dict(d).items() if key in CARRIED_KEYS}
        if carried:
            extensions = etree.SubElement(process, _q(BPMN_NS, "extensionElements"))
            carrier = etree.SubElement(extensions, _p("definition"), format=EXPORTER_VERSION)
            carrier.text = json.dumps(carried, ensure_ascii=False, separators=(",", ":"))

        if self.lanes:
            lane_set = etree.SubElement(process, _q(BPMN_NS, "laneSet"), id="LaneSet_1")
            for lane in self.lanes:
                element = etree.SubElement(
                    lane_set, _q(BPMN_NS, "lane"), id=f"Lane_{lane.role}", name=lane.name
                )
                for key, value in lane.attrs.items():
                    element.set(_p(key), value)
                for node in self.nodes.values():
                    if node.lane == lane.role:
                        etree.SubElement(element, _q(BPMN_NS, "flowNodeRef")).text = node.id

        for node in self.nodes.values():
            element = etree.SubElement(process, _q(BPMN_NS, node.tag), id=node.id)
            if node.name:
                element.set("name", node.name)
            if node.default_flow:
                element.set("default", node.default_flow)
            for key, value in node.attrs.items():
                element.set(_p(key), value)
            for flow_id in node.incoming:
                etree.SubElement(element, _q(BPMN_NS, "incoming")).text = flow_id
            for flow_id in node.outgoing:
                etree.SubElement(element, _q(BPMN_NS, "outgoing")).text = flow_id

        for flow in self.flows:
            element = etree.SubElement(process, _q(BPMN_NS, "sequenceFlow"), id=flow.id)
            if flow.name:
                element.set("name", flow.name)
            element.set("sourceRef", flow.source)
            element.set("targetRef", flow.target)
            for key, value in flow.attrs.items():
                element.set(_p(key), value)
            if flow.condition:
                condition = etree.SubElement(element, _q(BPMN_NS, "conditionExpression"))
                condition.set(_q(XSI_NS, "type"), "bpmn:tFormalExpression")
                condition.set("language", CEL_LANGUAGE)
                condition.text = flow.condition

        self.write_diagram(root)
        return etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="UTF-8").decode("utf-8")

    def write_diagram(self, root) -> None:
        diagram = etree.SubElement(root, _q(BPMNDI_NS, "BPMNDiagram"), id="BPMNDiagram_1")
        plane = etree.SubElement(
            diagram, _q(BPMNDI_NS, "BPMNPlane"), id="BPMNPlane_1", bpmnElement="Collaboration_1"
        )

        def shape(element_id: str, x: float, y: float, width: float, height: float, **extra) -> None:
            element = etree.SubElement(plane, _q(BPMNDI_NS, "BPMNShape"), id=f"{element_id}_di")
            element.set("bpmnElement", element_id)
            for key, value in extra.items():
                element.set(key, value)
            bounds = etree.SubElement(element, _q(DC_NS, "Bounds"))
            for key, value in (("x", x), ("y", y), ("width", width), ("height", height)):
                bounds.set(key, _number(round(value)))

        shape("Participant_1", _POOL_X, _POOL_Y, self.pool_width, self.pool_height, isHorizontal="true")
        for lane in self.lanes:
            x = _POOL_X + _POOL_HEADER
            shape(
                f"Lane_{lane.role}",
                x,
                lane.top,
                self.pool_width - _POOL_HEADER,
                lane.height,
                isHorizontal="true",
            )
        for node in self.nodes.values():
            width, height = node.size
            extra = {"isMarkerVisible": "true"} if node.tag == "exclusiveGateway" else {}
            shape(node.id, node.cx - width / 2, node.cy - height / 2, width, height, **extra)
        self.ranks_at_y: dict[int, set[int]] = defaultdict(set)
        for node in self.nodes.values():
            self.ranks_at_y[round(node.cy)].add(node.rank)
        self.channel_use: dict[float, int] = defaultdict(int)
        for flow in self.flows:
            edge = etree.SubElement(plane, _q(BPMNDI_NS, "BPMNEdge"), id=f"{flow.id}_di", bpmnElement=flow.id)
            for x, y in self.waypoints(flow):
                etree.SubElement(edge, _q(DI_NS, "waypoint"), x=_number(round(x)), y=_number(round(y)))


def bpmn_export(definition: Definition, *, language: str = "fa") -> str:
    """Return `definition` as a BPMN 2.0 document (XML text with its declaration, UTF-8).

    `language` ("fa" or "en") picks the text written in the `name` attributes that modelling tools
    show; both languages are kept in `pishkhan:fa` / `pishkhan:en`. The document holds full diagram
    interchange: shapes for the participant, every lane and every node, edges with waypoints.
    Never raises for a definition that `definition_from_dict` built."""
    graph = _Graph(definition, language or "fa")
    graph.build()
    graph.build_lanes()
    graph.mark_back_edges()
    order = graph.rank_nodes()
    graph.assign_lanes(order)
    graph.place(order)
    return graph.xml()
