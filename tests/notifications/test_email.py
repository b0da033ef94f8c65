"""Email providers: the same extension-point shape as SMS."""

import smtplib

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.core.mail.backends.base import BaseEmailBackend

from pishkhan.notifications.email.base import EmailError, EmailProvider
from pishkhan.notifications.email.contrib.file.plugin import read_messages
from pishkhan.notifications.email.registry import get_provider, register
from pishkhan.notifications.email.service import email_send


class RaisingBackend(BaseEmailBackend):
    """A Django email backend that fails with its `failure` (set per test)."""

    failure: Exception | None = None

    def send_messages(self, email_messages):
        raise type(self).failure


@pytest.fixture
def failing_smtp(settings):
    settings.EMAIL_PROVIDER = "django_mail"
    settings.EMAIL_BACKEND = f"{__name__}.RaisingBackend"

    def fail_with(error):
        RaisingBackend.failure = error

    return fail_with


def test_the_configured_provider_is_built_by_name(settings):
    settings.EMAIL_PROVIDER = "django_mail"
    assert get_provider().name == "django_mail"


def test_an_unknown_provider_name_is_reported_with_the_known_ones(settings):
    settings.EMAIL_PROVIDER = "carrier-pigeon"
    with pytest.raises(ImproperlyConfigured, match=r"'carrier-pigeon'.*django_mail, file"):
        get_provider()


def test_the_django_mail_provider_sends_through_djangos_backend_from_the_configured_sender(settings):
    settings.EMAIL_PROVIDER = "django_mail"
    settings.DEFAULT_FROM_EMAIL = "Pishkhan <noreply@city.example>"

    message_id = email_send(to="sara@example.org", subject="درخواست ثبت شد", text="کد رهگیری: ۱۲۳")

    [sent] = mail.outbox
    assert sent.to == ["sara@example.org"]
    assert sent.from_email == "Pishkhan <noreply@city.example>"
    assert (sent.subject, sent.body) == ("درخواست ثبت شد", "کد رهگیری: ۱۲۳")
    assert sent.extra_headers["Message-ID"] == message_id
    assert message_id.endswith("@city.example>")


def test_the_file_provider_appends_one_json_line_per_message():
    first = email_send(to="a@example.org", subject="one", text="یک")
    second = email_send(to="b@example.org", subject="two", text="دو")
    assert [(m["id"], m["to"], m["subject"], m["text"]) for m in read_messages()] == [
        (first, "a@example.org", "one", "یک"),
        (second, "b@example.org", "two", "دو"),
    ]


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (smtplib.SMTPRecipientsRefused({"a@example.org": (550, b"no such user")}), False),
        (smtplib.SMTPRecipientsRefused({"a@example.org": (450, b"mailbox busy")}), True),
        (smtplib.SMTPAuthenticationError(535, b"bad credentials"), False),
        (smtplib.SMTPResponseException(421, b"service not available"), True),
        (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), True),
        (ConnectionRefusedError(111, "Connection refused"), True),
        (TimeoutError("timed out"), True),
        (smtplib.SMTPNotSupportedError("STARTTLS extension not supported by server."), False),
    ],
)
def test_smtp_failures_say_whether_trying_later_may_help(failing_smtp, error, retryable):
    failing_smtp(error)
    with pytest.raises(EmailError) as raised:
        email_send(to="a@example.org", subject="s", text="t")
    assert raised.value.retryable is retryable


def test_a_failure_is_logged_without_the_body_or_the_full_address(failing_smtp, caplog):
    failing_smtp(smtplib.SMTPResponseException(421, b"try later"))
    with pytest.raises(EmailError):
        email_send(to="sara.ahmadi@example.org", subject="s", text="secret body")
    assert "sa***@example.org" in caplog.text
    assert "sara.ahmadi" not in caplog.text and "secret body" not in caplog.text


def test_a_new_provider_is_one_registered_class(settings):
    sent = []

    @register("test-memory-email")
    class MemoryProvider(EmailProvider):
        def send(self, *, to, subject, text):
            sent.append((to, subject, text))
            return f"memory-{len(sent)}"

    settings.EMAIL_PROVIDER = "test-memory-email"
    assert email_send(to="a@example.org", subject="s", text="t") == "memory-1"
    assert sent == [("a@example.org", "s", "t")]
