from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class OfficeStatus(models.TextChoices):
    ACTIVE = "active", _("Active")  # may file cases
    SUSPENDED = "suspended", _("Suspended")  # the city stopped it; it may not file


class Office(models.Model):
    """A licensed private e-service office (دفتر خدمات الکترونیک شهر) that files cases for citizens.
    The city keeps the registry: licence, district, address, operators, status."""

    licence_number = models.CharField(_("licence number"), max_length=40, unique=True)
    licence_expires_on = models.DateField(_("licence expires on"))
    name = models.CharField(_("name"), max_length=150)
    district = models.ForeignKey(
        "accounts.District", on_delete=models.PROTECT, related_name="offices", verbose_name=_("district")
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=OfficeStatus.choices, default=OfficeStatus.ACTIVE
    )

    class Meta:
        ordering = ["licence_number"]
        verbose_name = _("e-service office")
        verbose_name_plural = _("e-service offices")

    def __str__(self):
        return self.name


class OfficeOperator(models.Model):
    """Binds an operator account to the office it works for."""

    office = models.ForeignKey(
        Office, on_delete=models.CASCADE, related_name="operators", verbose_name=_("office")
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="office_operator",
        verbose_name=_("user"),
    )
    is_manager = models.BooleanField(_("office manager"), default=False)

    class Meta:
        verbose_name = _("office operator")
        verbose_name_plural = _("office operators")

    def __str__(self):
        return f"{self.user} @ {self.office}"
