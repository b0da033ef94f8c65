from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Closure(models.Model):
    """A day the city's offices are closed beyond the weekend and the national holidays: a
    province's snow or pollution closure, announced a day ahead. Deadlines skip these days."""

    date = models.DateField(
        _("date"), unique=True, help_text=_("The closed day (Gregorian, stored as a date).")
    )
    reason = models.CharField(
        _("reason"), max_length=200, help_text=_("Why the offices are closed, as announced.")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("closure")
        verbose_name_plural = _("closures")

    def __str__(self):
        return f"{self.date} {self.reason}"


class CalendarVersion(models.Model):
    """The single row whose token changes whenever a closure is added, changed or removed — by
    database triggers on core_closure (migration 0003), so no write can forget it. A calendar keeps
    the closures it read under the token it read them with (core.calendar.working_calendar), so
    an act on a case needs no closure query while the closures stay as they were."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    token = models.CharField(
        max_length=32, help_text=_("Random; a new one on every change to the closures, never reused.")
    )
    applied_token = models.CharField(
        max_length=32,
        blank=True,
        default="",
        help_text=_(
            "The token the open deadlines were last recomputed with; while it differs from the "
            "token, the deadline sweep recomputes them."
        ),
    )

    class Meta:
        verbose_name = _("calendar version")

    def __str__(self):
        return self.token


class AuditEvent(models.Model):
    """One security-relevant action (sign-in, failed sign-in, role change, export of personal data,
    a staff member reading a national ID). Rows are append-only and hash-chained: each row's hash
    covers its content and the previous row's hash, so `pishkhan audit verify` finds a changed,
    deleted or cut-off row."""

    seq = models.PositiveBigIntegerField(_("sequence"), unique=True, help_text=_("1, 2, 3 … with no gaps."))
    at = models.DateTimeField(_("at"), help_text=_("When the action happened (UTC)."))
    action = models.CharField(
        _("action"), max_length=60, db_index=True, help_text=_("What happened, e.g. signin.ok.")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Who acted, when known."),
    )
    actor_label = models.CharField(
        _("actor label"),
        max_length=150,
        blank=True,
        help_text=_("Who acted, as typed or known, kept even if the user is renamed."),
    )
    subject = models.CharField(
        _("subject"), max_length=200, blank=True, help_text=_("What the action was about, e.g. user:42.")
    )
    address = models.GenericIPAddressField(
        _("address"), null=True, blank=True, help_text=_("Client IP address.")
    )
    data = models.JSONField(
        _("data"), default=dict, blank=True, help_text=_("Details, never a secret or a code.")
    )
    prev_hash = models.CharField(
        _("previous hash"), max_length=64, help_text=_("Hash of the row before (64 zeros for the first).")
    )
    hash = models.CharField(
        _("hash"), max_length=64, help_text=_("SHA-256 over this row's content and prev_hash.")
    )

    class Meta:
        ordering = ["seq"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self):
        return f"#{self.seq} {self.action}"


class AuditHead(models.Model):
    """The single row that remembers the last audit sequence number and hash. Appends lock it, so
    the chain stays linear under concurrent writers; verify compares it with the last row to find
    a log cut off at its end."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(default=0, help_text=_("Sequence number of the last row."))
    hash = models.CharField(max_length=64, default="0" * 64, help_text=_("Hash of the last row."))

    class Meta:
        verbose_name = _("audit head")

    def __str__(self):
        return f"#{self.seq} {self.hash[:16]}"


class RateLimitHit(models.Model):
    """One counted attempt under a rate limit (an SMS code sent to a number, a guess from an
    address). Rows older than the longest window are pruned."""

    key = models.CharField(
        max_length=200, db_index=True, help_text=_("What is limited, e.g. sms:mobile:0912…")
    )
    at = models.DateTimeField(db_index=True, help_text=_("When the attempt was made."))

    class Meta:
        indexes = [models.Index(fields=["key", "at"])]
        verbose_name = _("rate-limit hit")

    def __str__(self):
        return f"{self.key} @ {self.at}"
