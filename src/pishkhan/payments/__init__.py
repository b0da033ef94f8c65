"""Payments: the citizen pays a case's payment step through a Shaparak gateway.

The flow (DOMAIN.md §6): `payment_start` asks the gateway for a token for the amount due (in
Rials) and sends the browser to the bank; the bank sends it back to our callback;
`payment_complete` verifies status AND amount server-side, refuses a reused reference, confirms
the step through `cases.services.case_payment_confirmed` and reverses the payment when that
fails. Gateways are an extension point (`gateways/`), shaped like every other one."""
