"""The outbox in the admin: read-only, with one action to queue failed messages again."""

import pytest
from django.contrib import admin
from django.utils import translation

from pishkhan.notifications.models import MessageStatus, OutboxMessage

from .helpers import make_message

pytestmark = pytest.mark.django_db


def test_an_operator_queues_the_selected_failed_messages_again_from_the_admin(rf, monkeypatch):
    model_admin = admin.site._registry[OutboxMessage]
    failed = make_message(status=MessageStatus.FAILED, attempts=8, last_error="418 no credit")
    sent = make_message(status=MessageStatus.SENT)
    told = []
    monkeypatch.setattr(model_admin, "message_user", lambda request, text, level: told.append(text))

    with translation.override("en"):
        model_admin.retry_failed(rf.post("/"), OutboxMessage.objects.filter(pk__in=[failed.pk, sent.pk]))

    failed.refresh_from_db()
    sent.refresh_from_db()
    assert (failed.status, failed.attempts) == (MessageStatus.PENDING, 0)
    assert sent.status == MessageStatus.SENT
    assert told == ["1 failed message is queued again."]


def test_the_outbox_admin_adds_and_deletes_nothing(rf):
    model_admin = admin.site._registry[OutboxMessage]
    request = rf.get("/")
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert "status" in model_admin.get_readonly_fields(request)
