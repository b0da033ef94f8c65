"""Payment gateways, an extension point with the same shape as every other one in Pishkhan:

- `base.py`: the contract (`PaymentGateway`, `GatewayStart`, `Verification`, `GatewayError`);
- `registry.py`: gateway name → class, and `get_gateway()`;
- `contrib/<vendor>/`: one folder per gateway (sandbox).

The public functions are in `pishkhan.payments.services`; call those, not a gateway."""
