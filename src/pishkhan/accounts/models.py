from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _


class District(models.Model):
    """One of the city's administrative districts (منطقه). Tehran has 22; each city configures its own.
    Every staff role binding and, later, every case belongs to a district."""

    code = models.SlugField(
        _("code"), max_length=20, unique=True, help_text=_("Stable short code, e.g. d01.")
    )
    number = models.PositiveSmallIntegerField(
        _("number"), unique=True, help_text=_("The district's number as people say it.")
    )
    name_fa = models.CharField(_("Persian name"), max_length=100, help_text=_("e.g. منطقه ۱"))
    name_en = models.CharField(_("English name"), max_length=100, help_text=_("e.g. District 1"))
    boundary = models.JSONField(
        _("boundary"), null=True, blank=True, help_text=_("GeoJSON polygon of the district, when known.")
    )

    class Meta:
        ordering = ["number"]
        verbose_name = _("district")
        verbose_name_plural = _("districts")

    def __str__(self):
        return self.name_fa


class Department(models.Model):
    """A department of the municipality (urban planning, finance, services …) that owns processes."""

    code = models.SlugField(
        _("code"), max_length=40, unique=True, help_text=_("Stable short code, e.g. urban-planning.")
    )
    name_fa = models.CharField(_("Persian name"), max_length=150)
    name_en = models.CharField(_("English name"), max_length=150)

    class Meta:
        ordering = ["code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self):
        return self.name_fa


class Role(models.Model):
    """An abstract role that process steps name (clerk, inspector, signatory …). Districts bind
    roles to real people through RoleBinding, so one process definition serves every district."""

    code = models.SlugField(
        _("code"), max_length=40, unique=True, help_text=_("e.g. inspector; process steps use it.")
    )
    name_fa = models.CharField(_("Persian name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self):
        return self.name_fa


class UserKind(models.TextChoices):
    CITIZEN = "citizen", _("Citizen")  # signs in with an SMS code
    STAFF = "staff", _("Municipal staff")  # password + authenticator app
    OPERATOR = "operator", _("E-service office operator")  # password + authenticator app


class PishkhanUserManager(UserManager):
    def citizens(self):
        return self.filter(kind=UserKind.CITIZEN)


class User(AbstractUser):
    """Anyone who signs in: a citizen (identified by mobile and national ID, signs in with a one-time
    SMS code, has no password), a staff member or an e-service office operator (username, password
    and a TOTP second factor)."""

    kind = models.CharField(_("kind"), max_length=10, choices=UserKind.choices, default=UserKind.CITIZEN)
    mobile = models.CharField(
        _("mobile"), max_length=11, unique=True, null=True, blank=True, help_text=_("Normalised 09xxxxxxxxx.")
    )
    national_id = models.CharField(
        _("national ID"),
        max_length=10,
        unique=True,
        null=True,
        blank=True,
        help_text=_("10 ASCII digits, checksum-valid."),
    )
    totp_secret = models.CharField(
        _("authenticator secret"),
        max_length=64,
        blank=True,
        help_text=_("Base32 TOTP secret; empty until enrolled."),
    )
    totp_confirmed = models.BooleanField(
        _("authenticator confirmed"),
        default=False,
        help_text=_("True once the person typed a valid code after enrolling."),
    )
    totp_last_step = models.PositiveBigIntegerField(
        default=0, help_text=_("Last accepted TOTP time step, so one code cannot be replayed.")
    )
    failed_signins = models.PositiveSmallIntegerField(
        _("failed sign-ins"), default=0, help_text=_("Consecutive failures; reset by a successful sign-in.")
    )
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)

    objects = PishkhanUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.get_full_name() or self.username


class RoleBinding(models.Model):
    """Binds a staff member to a role in one district (or city-wide when district is empty). Queues
    and permissions are computed from these rows; changing them is audited."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="role_bindings", verbose_name=_("user")
    )
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="bindings", verbose_name=_("role"))
    district = models.ForeignKey(
        District,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="role_bindings",
        verbose_name=_("district"),
        help_text=_("Empty means city-wide."),
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="role_bindings",
        verbose_name=_("department"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("role binding")
        verbose_name_plural = _("role bindings")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "district"], name="unique_role_binding"),
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=models.Q(district__isnull=True),
                name="unique_citywide_role_binding",
            ),
        ]

    def __str__(self):
        return f"{self.user} — {self.role} — {self.district or _('city-wide')}"


class SignInCode(models.Model):
    """A one-time SMS code sent to a citizen's mobile: 6 digits, valid a few minutes, used once,
    at most a few guesses. Only a hash of the code is stored."""

    mobile = models.CharField(max_length=11, db_index=True, help_text=_("Normalised 09xxxxxxxxx."))
    code_hash = models.CharField(
        max_length=64, help_text=_("HMAC-SHA256 of the code; the code itself is never stored.")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    guesses = models.PositiveSmallIntegerField(default=0, help_text=_("Guesses made; counted atomically."))
    used_at = models.DateTimeField(null=True, blank=True)
    address = models.GenericIPAddressField(
        null=True, blank=True, help_text=_("Address that asked for the code.")
    )

    class Meta:
        verbose_name = _("sign-in code")

    def __str__(self):
        return f"{self.mobile} {self.created_at:%Y-%m-%d %H:%M}"
