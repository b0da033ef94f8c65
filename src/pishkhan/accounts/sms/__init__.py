"""Text messages (SMS), an extension point with the same shape as every other one in Pishkhan:

- `base.py`: the contract (`SmsProvider`, `SmsError`);
- `registry.py`: provider name → class, and `get_provider()` for `settings.SMS_PROVIDER`;
- `service.py`: the public functions (`sms_send`, `sms_send_code`); call these, not a provider;
- `contrib/<vendor>/`: one folder per provider (console, file, kavenegar).

A new provider is one new folder with a class decorated `@register("name")`, imported from
`contrib/__init__.py`."""
