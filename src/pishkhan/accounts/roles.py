"""The standard roles every city starts with. Process definitions name these codes; districts bind
them to people. A city may add roles of its own through the admin."""

from django.utils.translation import gettext_noop

STANDARD_ROLES = [
    # (code, Persian name, English name, what the role does)
    (
        "clerk",
        "کارشناس",
        "Clerk / expert",
        gettext_noop("Reviews requests and documents at a counter or in the inbox."),
    ),
    ("inspector", "بازدیدکننده", "Inspector", gettext_noop("Visits sites and reports what is there.")),
    ("signatory", "امضاکننده", "Signatory", gettext_noop("Signs permits and certificates.")),
    (
        "manager",
        "مدیر",
        "Manager",
        gettext_noop("Sees the team's workload and overdue steps; reassigns work."),
    ),
    (
        "process_owner",
        "مالک فرایند",
        "Process owner",
        gettext_noop("Edits, compares and publishes process definitions."),
    ),
    (
        "auditor",
        "بازرس",
        "Auditor / inspector-general",
        gettext_noop("Reads cases and audit logs for oversight."),
    ),
    (
        "council_observer",
        "ناظر شورا",
        "Council observer",
        gettext_noop("Reads performance and oversight reports."),
    ),
    (
        "administrator",
        "مدیر سامانه",
        "Administrator",
        gettext_noop("Manages accounts, roles and configuration."),
    ),
]
