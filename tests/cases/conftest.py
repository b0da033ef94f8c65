from types import SimpleNamespace

import pytest
from django.utils import translation

from tests.cases.factories import make_district, make_staff, publish_definition, small_process


@pytest.fixture(autouse=True)
def _english():
    """Messages are read in English (their msgids) unless a test switches language itself."""
    with translation.override("en"):
        yield


@pytest.fixture
def issued(monkeypatch):
    """Stands in for cases.issuing.document_issue (the issuing tests test the real one): records
    each call and gives back something with a number, so the engine's tests do not render PDFs."""
    from pishkhan.cases import issuing

    calls = []

    def document_issue(*, case, output_id, now=None):
        calls.append((case.pk, output_id))
        return SimpleNamespace(number=f"TEST-{len(calls)}")

    monkeypatch.setattr(issuing, "document_issue", document_issue)
    return calls


@pytest.fixture
def notified(monkeypatch):
    """Records notify_case_event calls as (case id, activity) instead of writing to the outbox."""
    from pishkhan.notifications import services as notifications

    calls = []

    def notify_case_event(*, case, event):
        calls.append((case.pk, event.activity))
        return []

    monkeypatch.setattr(notifications, "notify_case_event", notify_case_event)
    return calls


@pytest.fixture
def world(db):
    """A district with a clerk, an inspector and a manager, and the small process published."""
    district = make_district()
    return SimpleNamespace(
        district=district,
        clerk=make_staff(role="clerk", district=district),
        inspector=make_staff(role="inspector", district=district),
        manager=make_staff(role="manager", district=district),
        service=publish_definition(small_process()),
    )
