from django.db import models
from django.utils.translation import gettext_lazy as _


class MessageChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("Email")


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")  # written with the event; the worker picks it up
    SENDING = "sending", _("Being sent")  # a worker took it (lease until next_attempt_at)
    SENT = "sent", _("Sent")  # the provider accepted it; recorded once
    FAILED = "failed", _("Failed")  # gave up after the last retry


class OutboxMessage(models.Model):
    """A message to send, written in the same transaction as the event that caused it, so a message
    exists exactly when its event does. A worker sends it after commit, with retries and backoff; a
    message is delivered at least once and recorded as sent once."""

    channel = models.CharField(_("channel"), max_length=10, choices=MessageChannel.choices)
    to = models.CharField(_("to"), max_length=200, help_text=_("A normalised mobile or an email address."))
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"))
    dedupe_key = models.CharField(
        max_length=200, unique=True, help_text=_("One message per cause, e.g. case:42:event:7:sms.")
    )
    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("case"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), db_index=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    provider_message_id = models.CharField(max_length=100, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["next_attempt_at"]
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self):
        return f"{self.channel} {self.to} {self.status}"
