from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ApplicationDraft(models.Model):
    """A citizen's application form saved half-way (پیش‌نویس درخواست): the values typed so far,
    unchecked, so the apply page can open filled in again. One per person and service; filing the
    application deletes it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="application_drafts",
        verbose_name=_("user"),
        help_text=_("The person whose draft this is."),
    )
    service = models.ForeignKey(
        "catalog.Service",
        on_delete=models.CASCADE,
        related_name="application_drafts",
        verbose_name=_("service"),
        help_text=_("The service being applied for."),
    )
    data = models.JSONField(
        _("answers so far"),
        default=dict,
        blank=True,
        help_text=_("The form's values as typed (field path → text), not yet validated."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, help_text=_("When it was last saved."))

    class Meta:
        verbose_name = _("application draft")
        verbose_name_plural = _("application drafts")
        constraints = [
            models.UniqueConstraint(fields=["user", "service"], name="portal_one_draft_per_user_service")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.service}"
