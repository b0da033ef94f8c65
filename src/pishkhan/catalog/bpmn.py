"""BPMN 2.0 in and out of the process bank.

    bpmn_import(data, *, filename="", code=None) -> BpmnImport      (catalog.bpmn_import)
    bpmn_export(definition, *, language="fa") -> str                (catalog.bpmn_export)

Import reads what Bizagi Modeler, Camunda Modeler and bpmn.io write; export writes what bpmn-js and
Camunda Modeler open (full diagram interchange, checked in the tests with `bpmn-moddle` through
`scripts/bpmn-lint.mjs`). `bpmn_import(bpmn_export(d)).data` is `d` again, all of it but `version`
and `status` (an import is always a new draft, version 1): the steps, roles and outcomes travel as
BPMN elements with Pishkhan attributes; what BPMN has no word for (documents, fields, fees, outputs,
descriptions, legal deadlines …, `CARRIED_KEYS`) travels as JSON in one `<pishkhan:definition>`
element in the process's extensionElements, which modelling tools keep untouched.

| format                          | BPMN                                                          |
|---------------------------------|---------------------------------------------------------------|
| the service                     | collaboration with one participant, one process               |
| role                            | lane (`pishkhan:role`, `pishkhan:declared`)                   |
| `start`                         | start event with one flow to the first step                   |
| review, inspection, signature   | userTask                                                      |
| payment                         | userTask with `pishkhan:kind="payment"`                       |
| citizen                         | receiveTask                                                   |
| automatic                       | serviceTask (sendTask for `action: notify`)                   |
| outcomes (one)                  | a sequence flow with `pishkhan:outcome`                       |
| outcomes (several)              | exclusive gateway `Gateway_<step>`, one flow per outcome      |
| `when:`                         | `conditionExpression` (language CEL) and `pishkhan:when`      |
| fork / join                     | parallel gateways (`pishkhan:kind`, `pishkhan:joinOf`)        |
| end                             | end event (`pishkhan:result`)                                 |

Pishkhan's own attributes live in the namespace `PISHKHAN_NS` = `https://pishkhan.example/bpmn`
(prefix `pishkhan`): `kind`, `role`, `deadlineDays`, `discretionary`, `signature`, `action`,
`output`, `law`, `article`, `result`, `joinOf` on nodes; `outcome`, `when` on flows; `fa`, `en` (the
two texts of a name) on anything named; `code`, `version` on the process; `role`, `declared` on lanes;
and the element `<pishkhan:definition format="pishkhan/process/1">` (JSON) in the process's
extensionElements.
The URI must never change: files exported with it would import as foreign files and lose what only
these attributes carry. Tools that do not know it keep the attributes untouched (bpmn-js stores
them as foreign attributes), so a file can go through Camunda Modeler and back.
"""

from .bpmn_export import bpmn_export
from .bpmn_import import MAX_BYTES, BpmnImport, bpmn_import
from .bpmn_vocabulary import CARRIED_KEYS, PISHKHAN_NS

__all__ = ["CARRIED_KEYS", "MAX_BYTES", "PISHKHAN_NS", "BpmnImport", "bpmn_export", "bpmn_import"]
