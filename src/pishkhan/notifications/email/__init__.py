"""Email, an extension point with the same shape as SMS (`accounts/sms/`):

- `base.py`: the contract (`EmailProvider`, `EmailError`);
- `registry.py`: provider name → class, and `get_provider()` for `settings.EMAIL_PROVIDER`;
- `service.py`: the public function `email_send`; call it, not a provider;
- `contrib/<name>/`: one folder per provider (django_mail, file).

A new provider is one new folder with a class decorated `@register("name")`, imported from
`contrib/__init__.py`."""
