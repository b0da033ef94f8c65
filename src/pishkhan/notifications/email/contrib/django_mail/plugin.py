"""Django mail provider: sends through Django's email backend (`settings.EMAIL_BACKEND`).

The backend is configured by the PISHKHAN_EMAIL_* variables (settings.py): `console` prints
messages on standard output (the default, for the demo and development), `smtp` talks to the
mail server named by PISHKHAN_EMAIL_HOST/PORT/HOST_USER/HOST_PASSWORD/USE_TLS/TIMEOUT. The sender
is DEFAULT_FROM_EMAIL (PISHKHAN_DEFAULT_FROM_EMAIL)."""

import smtplib
from email.utils import make_msgid, parseaddr

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from ...base import EmailError, EmailProvider
from ...registry import register


def _temporary(code) -> bool:
    # SMTP reply codes: 4xx means "try again later", 5xx means "never like this".
    return isinstance(code, int) and 400 <= code < 500


@register("django_mail")
class DjangoMailProvider(EmailProvider):
    def __init__(self):
        self.sender = settings.DEFAULT_FROM_EMAIL
        # The Message-ID we set is the id we record; its domain is the sender's, so no DNS lookup
        # of our own host name is needed (Django's default would make one).
        self.domain = parseaddr(self.sender)[1].rpartition("@")[2] or "localhost"

    def send(self, *, to: str, subject: str, text: str) -> str:
        message_id = make_msgid(domain=self.domain)
        message = EmailMessage(
            subject=subject,
            body=text,
            from_email=self.sender,
            to=[to],
            headers={"Message-ID": message_id},
            connection=get_connection(fail_silently=False),
        )
        try:
            accepted = message.send()
        # smtplib's errors are OSErrors too: the specific ones first.
        except smtplib.SMTPRecipientsRefused as error:
            codes = sorted({code for code, _text in error.recipients.values()})
            raise EmailError(
                f"the mail server refused the recipient (SMTP {', '.join(map(str, codes))})",
                retryable=all(_temporary(code) for code in codes),
            ) from None
        except smtplib.SMTPResponseException as error:
            raise EmailError(
                f"the mail server refused the message: SMTP {error.smtp_code}",
                retryable=_temporary(error.smtp_code),
            ) from None
        except smtplib.SMTPNotSupportedError as error:
            # E.g. STARTTLS asked of a server that does not offer it: configuration, not weather.
            raise EmailError(f"the mail server does not support what we asked: {error}") from None
        except (smtplib.SMTPException, OSError) as error:
            raise EmailError(
                f"cannot reach the mail server: {type(error).__name__}: {error}", retryable=True
            ) from None
        if accepted != 1:
            raise EmailError("the mail backend did not accept the message", retryable=True)
        return message_id
