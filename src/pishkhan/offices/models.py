import re

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

# A landline or mobile as offices write them: digits, with spaces or hyphens between, an optional
# leading + (021-88001122, +98 21 8800 1122). Persian digits are made ASCII by the forms first.
phone_validator = RegexValidator(
    r"^\+?[0-9][0-9 -]{3,17}[0-9]$",
    _("Enter the phone number in digits, e.g. 021-88001122 (spaces and hyphens are fine)."),
)


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
    phone = models.CharField(
        _("phone"),
        max_length=20,
        blank=True,
        validators=[phone_validator],
        help_text=_("The number citizens call, e.g. 021-88001122; the public directory shows it."),
    )
    hours = models.CharField(
        _("opening hours"),
        max_length=120,
        blank=True,
        help_text=_("As the office states them, e.g. Saturday to Wednesday 8:00–16:00, Thursday 8:00–12:00."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=OfficeStatus.choices, default=OfficeStatus.ACTIVE
    )

    class Meta:
        ordering = ["licence_number"]
        verbose_name = _("e-service office")
        verbose_name_plural = _("e-service offices")

    def __str__(self):
        return self.name

    @property
    def phone_uri(self) -> str:
        """The phone as a tel: link ("" when there is none)."""
        return "tel:" + re.sub(r"[^0-9+]", "", self.phone) if self.phone else ""


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
