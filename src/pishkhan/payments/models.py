from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class PaymentStatus(models.TextChoices):
    STARTED = "started", _("Started")  # sent to the gateway; no answer from the bank yet
    PAID = "paid", _("Paid")  # verified with the bank and the case's step confirmed
    FAILED = "failed", _("Failed")  # cancelled, refused by verification, or superseded; no money kept
    REVERSED = "reversed", _("Reversed")  # the bank took the money, the order failed, it was given back


class Payment(models.Model):
    """One attempt to pay a case's payment step through a gateway (پرداخت). A citizen may try
    several times; at most one attempt per step ends `paid`. The case's own history records the
    payment as its `paid` event; this row is the conversation with the bank."""

    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.PROTECT,
        related_name="payments",
        verbose_name=_("case"),
        help_text=_("The case whose step this pays."),
    )
    step_id = models.CharField(_("step"), max_length=80, help_text=_("The payment step of the case it pays."))
    payer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="payments",
        verbose_name=_("payer"),
        help_text=_("Who started it: the applicant, or an operator of the office that filed the case."),
    )
    amount = models.PositiveBigIntegerField(
        _("amount (Rials)"), help_text=_("What the step asked when the payment started, in Rials.")
    )
    gateway = models.CharField(
        _("gateway"), max_length=40, help_text=_("The registered name of the gateway (PAYMENT_GATEWAY).")
    )
    token = models.CharField(
        _("gateway token"),
        max_length=200,
        blank=True,
        help_text=_("The token the gateway gave for this payment; empty until it gave one."),
    )
    reference = models.CharField(
        _("bank reference"),
        max_length=100,
        blank=True,
        help_text=_("The bank's reference number of the verified payment; unique when set."),
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=PaymentStatus.choices,
        default=PaymentStatus.STARTED,
        help_text=_("Where the payment stands with the bank and the case."),
    )
    created_at = models.DateTimeField(_("created at"), help_text=_("When the payer started it."))
    verified_at = models.DateTimeField(
        _("verified at"), null=True, blank=True, help_text=_("When the bank confirmed it server-side.")
    )
    last_error = models.TextField(
        _("last error"),
        blank=True,
        help_text=_("Why it failed or was reversed, for the payer and for operators; never card data."),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.UniqueConstraint(
                fields=["reference"], condition=~Q(reference=""), name="unique_payment_reference"
            ),
            models.UniqueConstraint(fields=["token"], condition=~Q(token=""), name="unique_payment_token"),
        ]
        indexes = [models.Index(fields=["case", "step_id", "status"])]

    def __str__(self):
        return f"{self.case} / {self.step_id} / {self.status}"


class SandboxStatus(models.TextChoices):
    STARTED = "started", _("Started")  # the sandbox page is waiting for a click
    PAID = "paid", _("Paid")  # «pay» was clicked
    CANCELLED = "cancelled", _("Cancelled")  # «cancel» was clicked
    REVERSED = "reversed", _("Reversed")  # we asked the sandbox to give the money back


class SandboxTransaction(models.Model):
    """The sandbox gateway's own ledger (gateways/contrib/sandbox): what a bank would keep for a
    transaction. Development and tests only; no money moves."""

    token = models.CharField(_("token"), max_length=64, unique=True, help_text=_("The token handed to us."))
    order_id = models.CharField(_("order"), max_length=64, help_text=_("Our order id (the Payment's id)."))
    amount = models.PositiveBigIntegerField(_("amount (Rials)"), help_text=_("The amount asked, in Rials."))
    callback_url = models.URLField(
        _("callback address"), max_length=500, help_text=_("Where the payer's browser returns.")
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=SandboxStatus.choices,
        default=SandboxStatus.STARTED,
        help_text=_("What the payer did on the sandbox page."),
    )
    reference = models.CharField(
        _("reference"), max_length=32, blank=True, help_text=_("The random reference given on «pay».")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, help_text=_("When it started."))

    class Meta:
        verbose_name = _("sandbox transaction")
        verbose_name_plural = _("sandbox transactions")

    def __str__(self):
        return self.token
