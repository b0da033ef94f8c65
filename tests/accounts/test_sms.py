import json
import threading
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ImproperlyConfigured

from pishkhan.accounts.sms.base import SmsError, SmsProvider
from pishkhan.accounts.sms.contrib.file.plugin import read_messages
from pishkhan.accounts.sms.contrib.kavenegar.plugin import KavenegarProvider
from pishkhan.accounts.sms.registry import get_provider, register
from pishkhan.accounts.sms.service import sms_send, sms_send_code

API_KEY = "7A6B-SECRET-KEY-3D"


# --- registry and the simple providers ---------------------------------------------------------


def test_the_configured_provider_is_built_by_name(settings):
    settings.SMS_PROVIDER = "console"
    assert get_provider().name == "console"


def test_an_unknown_provider_name_is_reported_with_the_known_ones(settings):
    settings.SMS_PROVIDER = "pigeon"
    with pytest.raises(ImproperlyConfigured, match=r"'pigeon'.*console, file, kavenegar"):
        get_provider()


def test_the_console_provider_prints_the_message_for_the_demo(settings, capsys):
    settings.SMS_PROVIDER = "console"
    message_id = sms_send(to="09121234567", text="کد ورود شما به پیشخوان: 123456")
    out = capsys.readouterr().out
    assert message_id in out
    assert "09121234567" in out
    assert "123456" in out


def test_the_file_provider_appends_one_json_line_per_message(settings):
    first = sms_send(to="09121234567", text="یک")
    second = sms_send_code(to="09351234567", code="654321", text="دو 654321")
    lines = settings.SMS_FILE_PATH.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == [first, second]
    assert [(m["to"], m["text"]) for m in read_messages()] == [
        ("09121234567", "یک"),
        ("09351234567", "دو 654321"),
    ]


def test_no_file_means_no_messages():
    assert read_messages() == []


def test_a_new_provider_is_one_registered_class(settings):
    sent = []

    @register("test-memory")
    class MemoryProvider(SmsProvider):
        def send(self, *, to, text):
            sent.append((to, text))
            return str(len(sent))

    settings.SMS_PROVIDER = "test-memory"
    assert sms_send(to="09121234567", text="hello") == "1"
    assert sent == [("09121234567", "hello")]


# --- Kavenegar, against a fake server on loopback ----------------------------------------------


class FakeKavenegar:
    """A local stand-in for api.kavenegar.com: records each request and answers with the next
    canned (HTTP status, body) pair, or holds the answer until released, to provoke a timeout."""

    def __init__(self):
        self.requests = []
        self.answers = []
        self.release = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                fake.requests.append(
                    {
                        "path": self.path,
                        "content_type": self.headers.get("Content-Type"),
                        "form": dict(urllib.parse.parse_qsl(self.rfile.read(length).decode("utf-8"))),
                    }
                )
                status, body = fake.answers.pop(0) if fake.answers else (200, _accepted(1))
                if status is None:  # hold the answer: the client times out first
                    fake.release.wait(5)
                    return
                payload = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def _accepted(message_id):
    return {
        "return": {"status": 200, "message": "تایید شد"},
        "entries": [
            {"messageid": message_id, "status": 1, "statustext": "در صف ارسال", "receptor": "09121234567"}
        ],
    }


@pytest.fixture
def kavenegar(settings, monkeypatch):
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    with FakeKavenegar() as fake:
        settings.SMS_PROVIDER = "kavenegar"
        settings.KAVENEGAR_API_KEY = API_KEY
        settings.KAVENEGAR_BASE_URL = fake.base_url
        settings.KAVENEGAR_OTP_TEMPLATE = ""
        settings.SMS_SENDER = "10004346"
        yield fake


def test_kavenegar_sends_a_form_encoded_post_with_the_key_in_the_path(kavenegar):
    kavenegar.answers.append((200, _accepted(8792343)))
    assert sms_send(to="09121234567", text="کد ورود شما: 123456") == "8792343"
    (request,) = kavenegar.requests
    assert request["path"] == f"/v1/{API_KEY}/sms/send.json"
    assert request["content_type"].startswith("application/x-www-form-urlencoded")
    assert request["form"] == {
        "receptor": "09121234567",
        "message": "کد ورود شما: 123456",
        "sender": "10004346",
    }


def test_kavenegar_leaves_the_sender_out_when_none_is_configured(kavenegar, settings):
    settings.SMS_SENDER = ""
    sms_send(to="09121234567", text="x")
    assert "sender" not in kavenegar.requests[0]["form"]


def test_kavenegar_sends_sign_in_codes_through_the_otp_template_when_one_is_set(kavenegar, settings):
    settings.KAVENEGAR_OTP_TEMPLATE = "pishkhan-signin"
    kavenegar.answers.append((200, _accepted(42)))
    assert sms_send_code(to="09121234567", code="123456", text="کد: 123456") == "42"
    (request,) = kavenegar.requests
    assert request["path"] == f"/v1/{API_KEY}/verify/lookup.json"
    assert request["form"] == {"receptor": "09121234567", "token": "123456", "template": "pishkhan-signin"}


def test_kavenegar_sends_sign_in_codes_as_plain_text_without_a_template(kavenegar):
    sms_send_code(to="09121234567", code="123456", text="کد: 123456")
    assert kavenegar.requests[0]["path"].endswith("/sms/send.json")


def test_a_refusal_becomes_an_sms_error_that_needs_a_person_and_never_shows_the_key(kavenegar, caplog):
    kavenegar.answers.append(
        (401, {"return": {"status": 401, "message": f"کلید {API_KEY} معتبر نیست"}, "entries": None})
    )
    with pytest.raises(SmsError) as raised:
        sms_send(to="09121234567", text="x")
    assert not raised.value.retryable
    assert "401" in str(raised.value)
    assert API_KEY not in str(raised.value)
    assert API_KEY not in "".join(traceback.format_exception(raised.value))
    assert API_KEY not in caplog.text


def test_the_gateways_own_trouble_is_retryable(kavenegar):
    kavenegar.answers.append((502, b"<html>Bad gateway</html>"))
    with pytest.raises(SmsError) as raised:
        sms_send(to="09121234567", text="x")
    assert raised.value.retryable


def test_a_body_that_is_not_the_documented_envelope_is_an_error(kavenegar):
    kavenegar.answers.append((200, {"unexpected": True}))
    with pytest.raises(SmsError, match="unreadable"):
        sms_send(to="09121234567", text="x")


def test_a_silent_gateway_times_out_as_a_retryable_error(kavenegar, settings):
    settings.KAVENEGAR_TIMEOUT_SECONDS = 0.2
    kavenegar.answers.append((None, None))
    with pytest.raises(SmsError, match="did not answer") as raised:
        sms_send(to="09121234567", text="x")
    assert raised.value.retryable


def test_an_unreachable_gateway_is_a_retryable_error_without_the_key(settings):
    with FakeKavenegar() as fake:
        base_url = fake.base_url  # the port is free again once the server is closed
    provider = KavenegarProvider(api_key=API_KEY, base_url=base_url, sender="")
    with pytest.raises(SmsError, match="cannot reach") as raised:
        provider.send(to="09121234567", text="x")
    assert raised.value.retryable
    assert API_KEY not in str(raised.value)


def test_kavenegar_needs_an_api_key(settings):
    settings.KAVENEGAR_API_KEY = ""
    settings.SMS_PROVIDER = "kavenegar"
    with pytest.raises(ImproperlyConfigured, match="KAVENEGAR_API_KEY"):
        get_provider()


@pytest.mark.parametrize("base_url", ["http://api.kavenegar.com/v1", "ftp://127.0.0.1/v1"])
def test_the_key_is_never_sent_over_plain_http_except_to_loopback(base_url):
    with pytest.raises(ImproperlyConfigured, match="https"):
        KavenegarProvider(api_key=API_KEY, base_url=base_url)


def test_the_provider_does_not_show_its_key():
    assert API_KEY not in repr(KavenegarProvider(api_key=API_KEY))
