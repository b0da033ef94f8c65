#!/usr/bin/env node
// Check BPMN 2.0 files the way the tools our users open them with will read them.
//
//   node scripts/bpmn-lint.mjs FILE [FILE …]
//
// 1. bpmn-moddle (the model layer of bpmn-js and Camunda Modeler) parses the file. It does not fail
//    on problems, it collects them as warnings (unknown element, unresolved reference, …), so any
//    warning is treated here as an error.
// 2. Diagram interchange: bpmn-moddle does not look at DI, but bpmn-js can only draw what has a
//    shape or an edge. Every participant, lane and flow node needs a BPMNShape with bounds, every
//    sequence flow a BPMNEdge with at least two waypoints, and each diagram plane must point at a
//    collaboration or a process.
//
// Prints one line per problem (`FILE: message`) and exits 0 when every file is clean, 1 when any
// problem was found, 2 on a usage error or when bpmn-moddle is not installed (`npm ci`).

import { readFile } from 'node:fs/promises';

let createModdle;
try {
  // bpmn-moddle 10 exports a named factory; older majors had a default export.
  const module = await import('bpmn-moddle');
  createModdle = module.BpmnModdle || module.default;
} catch (error) {
  console.error(`bpmn-lint: cannot load bpmn-moddle (${error.message}); run \`npm ci\` first`);
  process.exit(2);
}

function describe(element) {
  return `${element.$type}${element.id ? ` "${element.id}"` : ''}`;
}

// Flow nodes and sequence flows of a process or sub-process, walking into nested sub-processes.
function collectFlowElements(container, nodes, flows) {
  for (const element of container.flowElements || []) {
    if (element.$instanceOf('bpmn:SequenceFlow')) {
      flows.push(element);
    } else if (element.$instanceOf('bpmn:FlowNode')) {
      nodes.push(element);
      if (element.$instanceOf('bpmn:SubProcess')) {
        collectFlowElements(element, nodes, flows);
      }
    }
  }
}

function collectLanes(laneSet, lanes) {
  for (const lane of laneSet?.lanes || []) {
    lanes.push(lane);
    collectLanes(lane.childLaneSet, lanes);
  }
}

function checkDiagramInterchange(definitions) {
  const problems = [];
  const nodes = [];
  const flows = [];
  const lanes = [];
  const participants = [];
  for (const root of definitions.rootElements || []) {
    if (root.$instanceOf('bpmn:Process')) {
      collectFlowElements(root, nodes, flows);
      for (const laneSet of root.laneSets || []) {
        collectLanes(laneSet, lanes);
      }
    } else if (root.$instanceOf('bpmn:Collaboration')) {
      participants.push(...(root.participants || []));
    }
  }

  const diagrams = definitions.diagrams || [];
  if (diagrams.length === 0) {
    problems.push('no bpmndi:BPMNDiagram: bpmn-js cannot display the file');
    return problems;
  }
  const shapes = new Map();
  const edges = new Map();
  for (const diagram of diagrams) {
    const plane = diagram.plane;
    if (!plane || !plane.bpmnElement) {
      problems.push(`${describe(diagram)}: its plane names no collaboration or process`);
      continue;
    }
    for (const di of plane.planeElement || []) {
      if (!di.bpmnElement) {
        problems.push(`${describe(di)}: bpmnElement does not resolve to a model element`);
        continue;
      }
      if (di.$instanceOf('bpmndi:BPMNShape')) {
        const b = di.bounds;
        const numbers = b && [b.x, b.y, b.width, b.height].every((v) => Number.isFinite(v));
        if (!numbers || b.width <= 0 || b.height <= 0) {
          problems.push(`${describe(di)}: missing or empty dc:Bounds`);
        }
        shapes.set(di.bpmnElement, di);
      } else if (di.$instanceOf('bpmndi:BPMNEdge')) {
        const points = di.waypoint || [];
        if (points.length < 2 || !points.every((p) => Number.isFinite(p.x) && Number.isFinite(p.y))) {
          problems.push(`${describe(di)}: an edge needs at least two waypoints`);
        }
        edges.set(di.bpmnElement, di);
      }
    }
  }
  for (const element of [...participants, ...lanes, ...nodes]) {
    if (!shapes.has(element)) {
      problems.push(`${describe(element)} has no BPMNShape`);
    }
  }
  for (const flow of flows) {
    if (!edges.has(flow)) {
      problems.push(`${describe(flow)} has no BPMNEdge`);
    }
  }
  return problems;
}

async function lintFile(path) {
  const xml = await readFile(path, 'utf8');
  const moddle = createModdle();
  let result;
  try {
    result = await moddle.fromXML(xml, 'bpmn:Definitions');
  } catch (error) {
    return [`not readable as BPMN 2.0: ${error.message}`];
  }
  const problems = (result.warnings || []).map((warning) => `warning: ${warning.message.replace(/\s*\n\s*/g, '; ')}`);
  return problems.concat(checkDiagramInterchange(result.rootElement));
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node scripts/bpmn-lint.mjs FILE [FILE …]');
  process.exit(2);
}
let failed = false;
for (const file of files) {
  let problems;
  try {
    problems = await lintFile(file);
  } catch (error) {
    problems = [`cannot read: ${error.message}`];
  }
  for (const problem of problems) {
    console.log(`${file}: ${problem}`);
  }
  failed ||= problems.length > 0;
}
process.exit(failed ? 1 : 0);
