from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "pishkhan.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        # Registers the built-in email providers, so a wrong PISHKHAN_EMAIL_PROVIDER is reported
        # by name with the list of the registered ones.
        from .email import contrib  # noqa: F401
