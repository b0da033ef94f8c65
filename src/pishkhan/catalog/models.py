from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Service(models.Model):
    """A service a citizen can ask the city for (خدمت), e.g. the building permit. Its process lives in
    versions; the catalogue shows the published one."""

    code = models.SlugField(
        _("code"), max_length=60, unique=True, help_text=_("Stable code, e.g. building-permit.")
    )
    title_fa = models.CharField(_("Persian title"), max_length=200)
    title_en = models.CharField(_("English title"), max_length=200, blank=True)
    department = models.ForeignKey(
        "accounts.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="services",
        verbose_name=_("owner department"),
    )
    category = models.CharField(_("category"), max_length=60, blank=True)
    search_text = models.TextField(
        _("search text"),
        blank=True,
        help_text=_(
            "Folded titles, keywords and description of the current version (core.text.search_fold)."
        ),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("service")
        verbose_name_plural = _("services")

    def __str__(self):
        return self.title_fa


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")  # editable by process owners; never runs cases
    PUBLISHED = "published", _("Published")  # frozen; new cases start on the latest published version
    RETIRED = "retired", _("Retired")  # frozen; open cases finish on it, no new cases


class ProcessVersion(models.Model):
    """One version of a service's process definition. The body is the canonical dict of
    catalog.definition; a published or retired version never changes."""

    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="versions", verbose_name=_("service")
    )
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    body = models.JSONField(
        _("definition"), help_text=_("The canonical definition (docs/process-format.md).")
    )
    source = models.TextField(
        _("source"), blank=True, help_text=_("The YAML or BPMN text it was imported from.")
    )
    source_format = models.CharField(
        _("source format"), max_length=10, default="yaml", help_text=_("yaml or bpmn")
    )
    body_hash = models.CharField(_("hash"), max_length=64, help_text=_("SHA-256 of the canonical body."))
    note = models.TextField(_("note"), blank=True, help_text=_("What changed and why."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )

    class Meta:
        ordering = ["service", "number"]
        verbose_name = _("process version")
        verbose_name_plural = _("process versions")
        constraints = [models.UniqueConstraint(fields=["service", "number"], name="unique_service_version")]

    def __str__(self):
        return f"{self.service.code} v{self.number} ({self.status})"


class DistrictVariant(models.Model):
    """How one district runs a version its own way: a patch (remove, change, add steps) on the
    standard definition, as Tehran's districts do today. The bank measures how far it departs."""

    version = models.ForeignKey(
        ProcessVersion, on_delete=models.CASCADE, related_name="variants", verbose_name=_("version")
    )
    district = models.ForeignKey(
        "accounts.District",
        on_delete=models.PROTECT,
        related_name="process_variants",
        verbose_name=_("district"),
    )
    patch = models.JSONField(
        _("patch"), help_text=_("remove_steps, change_steps, add_steps (docs/process-format.md).")
    )
    note = models.TextField(_("note"), blank=True)
    source = models.TextField(_("source"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("district variant")
        verbose_name_plural = _("district variants")
        constraints = [
            models.UniqueConstraint(fields=["version", "district"], name="unique_version_district_variant")
        ]

    def __str__(self):
        return f"{self.version} @ {self.district}"
