from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "pishkhan.payments"
    label = "payments"
    verbose_name = _("Payments")

    def ready(self):
        # Registers the built-in gateways, so a wrong PISHKHAN_PAYMENT_GATEWAY is reported by name
        # with the list of the registered ones.
        from .gateways import contrib  # noqa: F401
