"""The security audit log: append-only, hash-chained (see core.models.AuditEvent).

Contract used across the code base:
    audit_record(*, action, actor=None, actor_label="", subject="", address=None, data=None) -> AuditEvent
Actions are dotted names: signin.ok, signin.failed, signin.locked, role.granted, role.revoked,
personal_data.exported, national_id.read, …"""

from django.db import transaction
from django.utils import timezone

from .models import AuditEvent


def audit_record(*, action, actor=None, actor_label="", subject="", address=None, data=None):
    """Append one audit row. PLACEHOLDER until the hash chain lands: no hash yet."""
    with transaction.atomic():
        last = AuditEvent.objects.order_by("-seq").first()
        return AuditEvent.objects.create(
            seq=(last.seq + 1) if last else 1,
            at=timezone.now(),
            action=action,
            actor=actor,
            actor_label=actor_label or (str(actor) if actor else ""),
            subject=subject,
            address=address,
            data=data or {},
            prev_hash=last.hash if last else "0" * 64,
            hash="",
        )
