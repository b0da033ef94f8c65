"""Kavenegar (kavenegar.com), an Iranian SMS gateway, through its REST API and the standard
library only: their SDK is a thin wrapper over two POST requests, not worth a dependency.

Settings: KAVENEGAR_API_KEY (required), SMS_SENDER (the sender line; empty uses the account's
default line), and optionally KAVENEGAR_OTP_TEMPLATE (a template approved in the Kavenegar panel;
when set, sign-in codes go through `verify/lookup`, which operators deliver faster and which
skips the advertising blacklist), KAVENEGAR_BASE_URL (tests point it at a local fake server) and
KAVENEGAR_TIMEOUT_SECONDS (default 10).

The API key is part of every URL (`/v1/{API_KEY}/sms/send.json`). It is therefore never logged,
never put in an error message, and exceptions from urllib — which carry the URL — are not
chained to the SmsError we raise."""

import ipaddress
import json
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from ...base import SmsError, SmsProvider
from ...registry import register

DEFAULT_BASE_URL = "https://api.kavenegar.com/v1"
DEFAULT_TIMEOUT_SECONDS = 10
# A send answer is a few hundred bytes; refuse to buffer an unbounded body from a broken proxy.
MAX_RESPONSE_BYTES = 64 * 1024


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@register("kavenegar")
class KavenegarProvider(SmsProvider):
    def __init__(self, *, api_key=None, base_url=None, sender=None, otp_template=None, timeout=None):
        self.api_key = api_key if api_key is not None else settings.KAVENEGAR_API_KEY
        if not self.api_key:
            raise ImproperlyConfigured(
                "PISHKHAN_KAVENEGAR_API_KEY must be set to send SMS through Kavenegar."
            )
        self.base_url = (base_url or settings.KAVENEGAR_BASE_URL or DEFAULT_BASE_URL).rstrip("/")
        parsed = urllib.parse.urlsplit(self.base_url)
        # The key travels in the URL path: plain HTTP is only acceptable to a fake server on loopback.
        if parsed.scheme != "https" and not (parsed.scheme == "http" and _is_loopback(parsed.hostname or "")):
            raise ImproperlyConfigured("KAVENEGAR_BASE_URL must be an https:// URL.")
        self.sender = sender if sender is not None else settings.SMS_SENDER
        self.otp_template = otp_template if otp_template is not None else settings.KAVENEGAR_OTP_TEMPLATE
        self.timeout = float(timeout or settings.KAVENEGAR_TIMEOUT_SECONDS or DEFAULT_TIMEOUT_SECONDS)
        self._opener = urllib.request.build_opener()

    def __repr__(self):
        return f"<KavenegarProvider {self.base_url} key=***>"

    def send(self, *, to: str, text: str) -> str:
        params = {"receptor": to, "message": text}
        if self.sender:
            params["sender"] = self.sender
        return self._post("sms/send.json", params)

    def send_code(self, *, to: str, code: str, text: str) -> str:
        if not self.otp_template:
            return self.send(to=to, text=text)
        return self._post(
            "verify/lookup.json", {"receptor": to, "token": code, "template": self.otp_template}
        )

    def _redact(self, text: str) -> str:
        return str(text).replace(self.api_key, "***")

    def _post(self, path: str, params: dict) -> str:
        url = f"{self.base_url}/{urllib.parse.quote(self.api_key, safe='')}/{path}"
        request = urllib.request.Request(  # noqa: S310  (scheme checked in __init__)
            url,
            data=urllib.parse.urlencode(params).encode("utf-8"),
            method="POST",
            headers={
                "Accept": "application/json",
                "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            },
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                http_status, body = response.status, response.read(MAX_RESPONSE_BYTES)
        except urllib.error.HTTPError as error:
            # Kavenegar answers refusals with a 4xx and the same JSON envelope: read it for the reason.
            http_status = error.code
            try:
                body = error.read(MAX_RESPONSE_BYTES)
            except (OSError, TimeoutError):
                body = b""
            finally:
                error.close()
        except TimeoutError:
            raise SmsError(f"Kavenegar did not answer within {self.timeout:g} s.", retryable=True) from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):
                raise SmsError(
                    f"Kavenegar did not answer within {self.timeout:g} s.", retryable=True
                ) from None
            reason = self._redact(getattr(error.reason, "strerror", None) or error.reason)
            raise SmsError(f"cannot reach Kavenegar: {reason}", retryable=True) from None
        except OSError as error:
            raise SmsError(
                f"cannot reach Kavenegar: {self._redact(error.strerror or error)}", retryable=True
            ) from None
        return self._message_id(http_status, body)

    def _message_id(self, http_status: int, body: bytes) -> str:
        try:
            payload = json.loads(body.decode("utf-8"))
            envelope = payload["return"]
            api_status = int(envelope["status"])
            api_message = str(envelope.get("message", ""))
        except (ValueError, KeyError, TypeError):
            raise SmsError(
                f"Kavenegar answered HTTP {http_status} with an unreadable body.",
                retryable=http_status >= 500,
            ) from None
        if http_status != 200 or api_status != 200:
            # 5xx and 429 are the gateway's own trouble; 4xx codes (401 bad key, 411 bad number,
            # 412 bad sender, 418 no credit, 424 unknown template …) need a person to act.
            retryable = http_status >= 500 or http_status == 429 or api_status >= 500
            raise SmsError(
                f"Kavenegar refused the message: {api_status} {self._redact(api_message)}".strip(),
                retryable=retryable,
            )
        try:
            return str(payload["entries"][0]["messageid"])
        except (KeyError, IndexError, TypeError):
            raise SmsError("Kavenegar accepted the message but returned no message id.") from None
