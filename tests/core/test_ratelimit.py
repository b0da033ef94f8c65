import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, connections
from django.test import RequestFactory

from pishkhan.core.models import RateLimitHit
from pishkhan.core.ratelimit import client_address, rate_limit_hit, rate_limit_prune

T0 = datetime(2025, 3, 21, 8, 30, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.mark.django_db
def test_attempts_up_to_the_limit_pass_and_the_next_is_refused():
    results = [rate_limit_hit(key="k", limit=3, window=HOUR, now=T0 + timedelta(seconds=i)) for i in range(4)]
    assert results == [True, True, True, False]


@pytest.mark.django_db
def test_a_refused_attempt_is_not_counted():
    for i in range(3):
        rate_limit_hit(key="k", limit=3, window=HOUR, now=T0 + timedelta(minutes=i))
    for i in range(10):
        assert not rate_limit_hit(key="k", limit=3, window=HOUR, now=T0 + timedelta(minutes=10 + i))
    assert RateLimitHit.objects.filter(key="k").count() == 3


@pytest.mark.django_db
def test_the_window_slides_so_old_attempts_stop_counting():
    for i in range(3):
        rate_limit_hit(key="k", limit=3, window=HOUR, now=T0 + timedelta(minutes=i))
    assert not rate_limit_hit(key="k", limit=3, window=HOUR, now=T0 + timedelta(minutes=59))
    # The first attempt (at T0) has left the window; the other two still count.
    assert rate_limit_hit(key="k", limit=3, window=HOUR, now=T0 + timedelta(minutes=60, seconds=1))
    assert not rate_limit_hit(key="k", limit=3, window=HOUR, now=T0 + timedelta(minutes=60, seconds=2))


@pytest.mark.django_db
def test_each_key_has_its_own_count():
    assert rate_limit_hit(key="signin:mobile:09121234567", limit=1, window=HOUR, now=T0)
    assert rate_limit_hit(key="signin:mobile:09351234567", limit=1, window=HOUR, now=T0)
    assert not rate_limit_hit(key="signin:mobile:09121234567", limit=1, window=HOUR, now=T0)


@pytest.mark.django_db
def test_pruning_removes_only_attempts_older_than_asked():
    rate_limit_hit(key="old", limit=5, window=HOUR, now=T0 - timedelta(hours=2))
    rate_limit_hit(key="new", limit=5, window=HOUR, now=T0 - timedelta(minutes=10))
    assert rate_limit_prune(older_than=HOUR, now=T0) == 1
    assert list(RateLimitHit.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.parametrize(
    ("header", "value", "expected"),
    [
        ("REMOTE_ADDR", "192.0.2.7", "192.0.2.7"),
        ("REMOTE_ADDR", "2001:db8::1", "2001:db8::1"),
        ("HTTP_X_FORWARDED_FOR", "203.0.113.9, 10.0.0.1, 10.0.0.2", "203.0.113.9"),
        ("HTTP_X_FORWARDED_FOR", " 203.0.113.9 ", "203.0.113.9"),
        ("HTTP_X_FORWARDED_FOR", "203.0.113.9:51234", "203.0.113.9"),
        ("HTTP_X_FORWARDED_FOR", "[2001:db8::2]:443, 10.0.0.1", "2001:db8::2"),
        ("HTTP_X_FORWARDED_FOR", "unknown", None),
        ("HTTP_X_FORWARDED_FOR", "203.0.113.9<script>", None),
        ("HTTP_X_FORWARDED_FOR", "", None),
    ],
)
def test_the_client_address_is_the_first_valid_address_of_the_configured_header(
    settings, header, value, expected
):
    settings.CLIENT_ADDRESS_HEADER = header
    request = RequestFactory().get("/", **{header: value})
    assert client_address(request) == expected


def test_a_missing_header_gives_no_address(settings):
    settings.CLIENT_ADDRESS_HEADER = "HTTP_X_FORWARDED_FOR"
    assert client_address(RequestFactory().get("/")) is None


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SQLite serialises writing transactions (IMMEDIATE), so threads cannot race",
)
@pytest.mark.django_db(transaction=True)
def test_parallel_attempts_never_pass_the_limit():
    threads_count, limit = 12, 4
    barrier = threading.Barrier(threads_count)
    results = []

    def attempt():
        try:
            barrier.wait()
            results.append(rate_limit_hit(key="parallel", limit=limit, window=HOUR, now=T0))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * (threads_count - limit) + [True] * limit
    assert RateLimitHit.objects.filter(key="parallel").count() == limit
