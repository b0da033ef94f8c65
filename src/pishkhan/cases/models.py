from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from pishkhan.core.fields import LazyJSONField


class Channel(models.TextChoices):
    ONLINE = "online", _("Online")  # the citizen, from the service desk or the API
    OFFICE = "office", _("E-service office")  # an office operator, for a walk-in citizen
    COUNTER = "counter", _("Counter")  # municipal staff at a counter


class CaseStatus(models.TextChoices):
    OPEN = "open", _("In progress")  # at least one step is in a staff queue
    WITH_CITIZEN = "with_citizen", _("Waiting for the applicant")  # correction, payment or citizen step
    APPROVED = "approved", _("Approved")  # ended on an end step with result approved
    REJECTED = "rejected", _("Rejected")  # ended on an end step with result rejected
    WITHDRAWN = "withdrawn", _("Withdrawn")  # the applicant withdrew it

    @classmethod
    def closed(cls):
        return [cls.APPROVED, cls.REJECTED, cls.WITHDRAWN]


class Case(models.Model):
    """One citizen request travelling through a process (پرونده). It runs on the published version
    it started on (and its district's variant) to the end, whatever is published later. Its history
    is the event log (CaseEvent); the fields here are the current state, kept for queries."""

    tracking_code = models.CharField(
        _("tracking code"),
        max_length=16,
        unique=True,
        help_text=_("Numeric, unguessable, with a check digit; identifies the case but is not a key to it."),
    )
    service = models.ForeignKey(
        "catalog.Service", on_delete=models.PROTECT, related_name="cases", verbose_name=_("service")
    )
    version = models.ForeignKey(
        "catalog.ProcessVersion",
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("process version"),
        help_text=_("The published version the case started on."),
    )
    variant = models.ForeignKey(
        "catalog.DistrictVariant",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("district variant"),
        help_text=_("The district's variant of that version, when the district has one."),
    )
    district = models.ForeignKey(
        "accounts.District", on_delete=models.PROTECT, related_name="cases", verbose_name=_("district")
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("applicant"),
        help_text=_("The citizen the case is for."),
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="filed_cases",
        verbose_name=_("filed by"),
        help_text=_("Who filed it: the citizen, an office operator or a clerk at a counter."),
    )
    office = models.ForeignKey(
        "offices.Office",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("e-service office"),
        help_text=_("The office that filed it, when an office did."),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    answers = LazyJSONField(  # most acts never read them: parsed when first read (core.fields)
        _("form answers"), default=dict, help_text=_("Validated against the definition.")
    )
    status = models.CharField(_("status"), max_length=15, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    submitted_at = models.DateTimeField(_("submitted at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    due_at = models.DateTimeField(
        _("case deadline"),
        null=True,
        blank=True,
        help_text=_("The legal deadline (or the service norm) in working days, moved on by suspensions."),
    )
    suspended_since = models.DateTimeField(
        _("suspended since"),
        null=True,
        blank=True,
        help_text=_("Set while the case waits for the applicant: the deadline clock is stopped."),
    )
    suspended_days = models.PositiveIntegerField(
        _("suspended working days"), default=0, help_text=_("Working days the clock stood still, added up.")
    )
    event_seq = models.PositiveIntegerField(default=0, help_text=_("Sequence number of the last event."))
    event_hash = models.CharField(max_length=64, default="0" * 64, help_text=_("Hash of the last event."))

    class Meta:
        ordering = ["-submitted_at"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [
            models.Index(fields=["status", "district"]),
            models.Index(fields=["applicant", "-submitted_at"]),
        ]

    def __str__(self):
        return self.tracking_code


class PositionState(models.TextChoices):
    QUEUED = "queued", _("In the queue")  # waits in the queue of its role in its district
    CLAIMED = "claimed", _("Being worked on")  # a staff member claimed it
    WITH_CITIZEN = "with_citizen", _("With the applicant")  # a correction, a payment or a citizen step
    WAITING_JOIN = "waiting_join", _("Waiting for parallel steps")  # a join waiting for its other branches
    AUTOMATIC = "automatic", _("Running")  # an automatic step queued to run after commit


class Alert(models.TextChoices):
    NONE = "", _("On time")
    SOON = "soon", _("Due soon")  # the deadline is within the warning window
    OVERDUE = "overdue", _("Overdue")  # the deadline has passed


class Position(models.Model):
    """Where a case stands now: one row per open step (several while parallel branches run). A
    position is deleted when its step is done; the event log keeps the history."""

    # Every index here is rewritten as cases move, so there are only those its readers need: the
    # case's (never rewritten: a position stays with its case), the queue's (district, role, state)
    # and the assignee's. None of its own on district, which the queue's starts with; none on the
    # deadline, which the sweep reads faster without (ADR 0011); no unique (case, step_id), which
    # every move rewrote: the engine keeps one position per step under the case's lock (ADR 0013).
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="positions", verbose_name=_("case"))
    step_id = models.CharField(_("step"), max_length=80)
    role = models.CharField(
        _("role"), max_length=60, help_text=_("The step's role code; the queue it sits in.")
    )
    district = models.ForeignKey(
        "accounts.District",
        on_delete=models.PROTECT,
        related_name="positions",
        verbose_name=_("district"),
        db_index=False,
    )
    state = models.CharField(
        _("state"), max_length=15, choices=PositionState.choices, default=PositionState.QUEUED
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="positions",
        verbose_name=_("assignee"),
        help_text=_("Who claimed the step, or to whom a manager assigned it."),
    )
    assigned_at = models.DateTimeField(_("entered the queue at"))
    started_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    alert = models.CharField(_("alert"), max_length=10, choices=Alert.choices, default=Alert.NONE, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    branch_of = models.CharField(
        _("fork"), max_length=80, blank=True, help_text=_("The fork step whose branch this position runs on.")
    )
    arrivals = models.PositiveSmallIntegerField(
        default=0, help_text=_("For a join: how many of its fork's branches have arrived.")
    )
    request = models.JSONField(
        _("request to the applicant"),
        default=dict,
        blank=True,
        help_text=_("For a correction: what is missing, why and by when (the applicant's due date)."),
    )

    class Meta:
        ordering = ["due_at", "assigned_at"]
        verbose_name = _("open step")
        verbose_name_plural = _("open steps")
        indexes = [models.Index(fields=["district", "role", "state"])]

    def __str__(self):
        return f"{self.case} @ {self.step_id}"


class CaseEvent(models.Model):
    """One thing that happened to a case. Append-only (the application never updates or deletes it;
    database triggers refuse it) and hash-chained per case. It is the one source of the citizen's
    timeline, the audit trail of decisions and the input of process mining."""

    # No index of its own on case: the unique (case, seq) starts with it, and every event written
    # would update both.
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="events", verbose_name=_("case"), db_index=False
    )
    seq = models.PositiveIntegerField(_("sequence"), help_text=_("1, 2, 3 … per case, no gaps."))
    step_id = models.CharField(_("step"), max_length=80, blank=True)
    activity = models.CharField(
        _("activity"),
        max_length=40,
        help_text=_(
            "submitted, claimed, released, completed, returned, answered, reassigned, withdrawn, escalated …"
        ),
    )
    outcome = models.CharField(_("outcome"), max_length=20, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
        help_text=_("Empty for the system (automatic steps, the deadline sweep)."),
    )
    actor_role = models.CharField(_("actor's role"), max_length=60, blank=True)
    office = models.ForeignKey(
        "offices.Office",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("office"),
    )
    district = models.ForeignKey(
        "accounts.District", on_delete=models.PROTECT, related_name="+", verbose_name=_("district")
    )
    assigned_at = models.DateTimeField(_("entered the queue at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("at"), help_text=_("When the event happened (UTC)."))
    reason = models.TextField(_("reason"), blank=True, help_text=_("The reason given (required to reject)."))
    data = models.JSONField(_("data"), default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["case", "seq"]
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="unique_case_event_seq")]
        indexes = [models.Index(fields=["completed_at"]), models.Index(fields=["activity", "step_id"])]

    def __str__(self):
        return f"{self.case_id}#{self.seq} {self.activity} {self.step_id}"


class SubmissionKey(models.Model):
    """An idempotency key: the same key from the same person gives back the same case, so a double
    click or a retried request never makes two cases."""

    key = models.CharField(
        max_length=100, help_text=_("Idempotency-Key header or the form's one-time token.")
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    request_hash = models.CharField(
        max_length=64, help_text=_("SHA-256 of the request, to refuse a reused key.")
    )
    case = models.ForeignKey(Case, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="unique_submission_key")]
        verbose_name = _("submission key")

    def __str__(self):
        return self.key


class StoredFile(models.Model):
    """A file's content, stored once under its SHA-256 through Django storage (file system by
    default, S3-compatible in production). Never served from a guessable URL."""

    sha256 = models.CharField(max_length=64, unique=True)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100, help_text=_("Detected from the content, not the name."))
    storage_name = models.CharField(max_length=200, help_text=_("Name in the storage backend."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("stored file")

    def __str__(self):
        return self.sha256


class CaseDocument(models.Model):
    """A document the applicant (or an office, or an inspector) uploaded to a case."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="documents", verbose_name=_("case"))
    document_type = models.CharField(
        _("document"), max_length=80, help_text=_("A document id of the definition.")
    )
    file = models.ForeignKey(StoredFile, on_delete=models.PROTECT, related_name="+")
    original_name = models.CharField(_("file name"), max_length=200)
    step_id = models.CharField(_("step"), max_length=80, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    replaces = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The document a correction replaces."),
    )

    class Meta:
        ordering = ["uploaded_at"]
        verbose_name = _("case document")
        verbose_name_plural = _("case documents")

    def __str__(self):
        return f"{self.case} {self.document_type}"


class IssuedDocument(models.Model):
    """A permit or certificate the city issued for a case, as a PDF with a QR code that opens a public
    verification page. The page shows that it is genuine and unchanged, and no personal data."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="issued", verbose_name=_("case"))
    output_id = models.CharField(_("output"), max_length=80)
    number = models.CharField(_("document number"), max_length=40, unique=True)
    verification_code = models.CharField(
        max_length=64,
        unique=True,
        help_text=_("Random, in the QR code's URL; not guessable from the number."),
    )
    file = models.ForeignKey(
        StoredFile,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_(
            "The PDF. Empty until first asked for when the document was registered in bulk (a "
            "simulated or imported history): it is rendered then, once."
        ),
    )
    title_fa = models.CharField(max_length=200)
    title_en = models.CharField(max_length=200, blank=True)
    issued_at = models.DateTimeField(_("issued at"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["issued_at"]
        verbose_name = _("issued document")
        verbose_name_plural = _("issued documents")

    def __str__(self):
        return self.number
