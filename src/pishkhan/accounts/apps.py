from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "pishkhan.accounts"
    label = "accounts"
    verbose_name = _("People and districts")

    def ready(self):
        # Registers the built-in SMS providers, so a wrong PISHKHAN_SMS_PROVIDER is reported by
        # name with the list of the registered ones.
        from .sms import contrib  # noqa: F401
