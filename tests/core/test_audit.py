import datetime as dt
import io
import os
import sqlite3
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from pishkhan import cli
from pishkhan.accounts.models import User
from pishkhan.core.audit import (
    AuditHeadMissing,
    audit_events,
    audit_payload,
    audit_record,
    audit_verify,
    audit_verify_report,
)
from pishkhan.core.hashchain import CHANGED, DELETED, GENESIS, TRUNCATED, chain_hash
from pishkhan.core.models import AuditEvent, AuditHead, Closure

pytestmark = pytest.mark.django_db


def record_events(count, action="test.event"):
    return [audit_record(action=action, subject=f"item:{n}") for n in range(1, count + 1)]


def head():
    row = AuditHead.objects.get(pk=1)
    return row.seq, row.hash


def verify(*args):
    """Run `pishkhan audit verify` as a caller would: (exit status, what it printed)."""
    out = io.StringIO()
    try:
        call_command("audit", "verify", *args, stdout=out)
    except CommandError as error:
        return error.returncode, out.getvalue()
    return 0, out.getvalue()


def lift_append_only_guard():
    """What a database administrator bent on tampering does first: drop the triggers. Inside a
    test's transaction, so they come back when it rolls back."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER core_auditevent_no_update")
            cursor.execute("DROP TRIGGER core_auditevent_no_delete")
        else:
            cursor.execute("DROP TRIGGER core_auditevent_append_only ON core_auditevent")


def run_sql(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# --- recording --------------------------------------------------------------------------------


def test_each_event_links_to_the_one_before_and_moves_the_head():
    first, second = record_events(2)
    assert (first.seq, first.prev_hash) == (1, GENESIS)
    assert (second.seq, second.prev_hash) == (2, first.hash)
    assert second.hash == chain_hash(first.hash, audit_payload(second))
    assert head() == (2, second.hash)


@pytest.mark.parametrize(
    "address",
    [
        None,
        "192.168.10.20",
        "2001:0DB8:0000:0000:0000:0000:0000:0001",  # stored and read back compressed
        "::ffff:1.2.3.4",  # IPv4-mapped: spelled differently by Python versions and PostgreSQL
        "::0102:0304",  # PostgreSQL's inet writes this one as ::1.2.3.4
    ],
)
def test_an_event_read_back_from_the_database_hashes_as_it_did_when_written(address):
    written = audit_record(
        action="personal_data.exported",
        actor_label="کارمند ۱۲",
        subject="user:42",
        address=address,
        data={
            "reason": "درخواست شهروند برای رونوشت پرونده",
            "fields": ["نام", "کد ملی", {"nested": {"deep": [1, 2.5, None, True]}}],
            "requested_at": dt.datetime(2026, 3, 21, 10, 0, 0, 123456, tzinfo=dt.UTC),
            "fee": Decimal("12500.00"),
            "count": 1e16,
        },
    )
    read_back = AuditEvent.objects.get(pk=written.pk)
    assert read_back.data["reason"] == "درخواست شهروند برای رونوشت پرونده"
    assert chain_hash(read_back.prev_hash, audit_payload(read_back)) == read_back.hash == written.hash
    assert audit_verify() == []


def test_an_address_that_does_not_parse_is_kept_in_data_rather_than_lost():
    event = audit_record(action="signin.failed", address="1.2.3.4, 10.0.0.1", data={"mobile": "09120000000"})
    event.refresh_from_db()
    assert event.address is None
    assert event.data == {"mobile": "09120000000", "unparsed_address": "1.2.3.4, 10.0.0.1"}


@pytest.mark.parametrize(
    "data",
    [
        {"code": "123456"},
        {"attempt": {"Password": "hunter22"}},
        {"factors": [{"otp": "123456"}]},
        {"totp_secret": "JBSWY3DPEHPK3PXP"},
    ],
)
def test_audit_data_refuses_secrets_and_codes(data):
    with pytest.raises(ValueError, match="secrets or codes"):
        audit_record(action="signin.failed", data=data)
    assert not AuditEvent.objects.exists()


def test_the_actor_label_defaults_to_the_actor_and_an_anonymous_user_counts_as_unknown():
    clerk = User.objects.create_user(username="clerk77", first_name="زهرا", last_name="رضایی")
    assert audit_record(action="signin.ok", actor=clerk).actor_label == "زهرا رضایی"
    typed = audit_record(action="signin.failed", actor=AnonymousUser(), actor_label="clerk7")
    assert (typed.actor, typed.actor_label) == (None, "clerk7")


@pytest.mark.parametrize("action", ["", "x" * 61, None])
def test_an_action_must_be_a_short_name(action):
    with pytest.raises(ValueError, match="dotted name"):
        audit_record(action=action)


def test_labels_are_cut_to_their_columns_and_lose_nul_characters_on_every_database():
    event = audit_record(action="test.event", actor_label="ا" * 400, subject="s" * 400)
    event.refresh_from_db()
    assert (len(event.actor_label), len(event.subject)) == (150, 200)
    typed = audit_record(action="signin.failed", actor_label="clerk\x0077", address="1.2.3.4\x00")
    typed.refresh_from_db()
    assert (typed.actor_label, typed.address) == ("clerk77", "1.2.3.4")
    assert audit_verify() == []


def test_many_records_in_a_row_leave_no_gaps_and_verify():
    record_events(300)
    assert list(AuditEvent.objects.values_list("seq", flat=True)) == list(range(1, 301))
    assert head()[0] == 300
    assert audit_verify() == []


def test_an_empty_log_whose_head_is_gone_starts_afresh():
    AuditHead.objects.all().delete()
    assert audit_record(action="test.event").seq == 1
    assert head()[0] == 1


def test_a_log_with_rows_whose_head_is_gone_refuses_to_continue():
    record_events(2)
    AuditHead.objects.all().delete()
    with pytest.raises(AuditHeadMissing):
        audit_record(action="test.event")


def test_audit_events_lists_newest_first_and_narrows_by_action_actor_and_time():
    clerk = User.objects.create_user(username="clerk78")
    old = audit_record(action="signin.ok", actor=clerk)
    # Rows cannot be back-dated, so "since" is checked against a moment taken between records.
    cut_off = timezone.now()
    failed = audit_record(action="signin.failed", actor_label="clerk78")
    newer = audit_record(action="signin.ok", actor=clerk)
    assert list(audit_events()) == [newer, failed, old]
    assert list(audit_events(action="signin.ok")) == [newer, old]
    assert list(audit_events(actor=clerk)) == [newer, old]
    assert list(audit_events(actor=clerk, since=cut_off)) == [newer]


# --- the database refuses to rewrite history ---------------------------------------------------


def test_the_database_refuses_to_update_an_audit_event():
    event = record_events(1)[0]
    event.subject = "user:99"
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        event.save()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="signin.ok")
    event.refresh_from_db()
    assert (event.subject, event.action) == ("item:1", "test.event")


def test_the_database_refuses_to_delete_an_audit_event():
    event = record_events(1)[0]
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        event.delete()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


# --- pishkhan audit verify ---------------------------------------------------------------------


def test_a_clean_log_verifies_and_prints_its_head():
    last = record_events(3)[-1]
    status, out = verify()
    assert status == 0
    assert f"audit log OK: 3 events, head #3 {last.hash[:16]}" in out
    assert f"3:{last.hash}" in out


def test_an_empty_log_verifies():
    status, out = verify()
    assert status == 0
    assert f"audit log OK: 0 events, head #0 {GENESIS[:16]}" in out


def test_a_tampered_row_is_detected():
    record_events(5)
    lift_append_only_guard()
    run_sql("UPDATE core_auditevent SET subject = %s WHERE seq = %s", ["user:1", 3])
    status, out = verify()
    assert status == 1
    assert "#3 changed:" in out
    assert [(p.seq, p.kind) for p in audit_verify()] == [(3, CHANGED)]


def test_a_deleted_row_is_detected():
    record_events(5)
    lift_append_only_guard()
    run_sql("DELETE FROM core_auditevent WHERE seq = %s", [2])
    status, out = verify()
    assert status == 1
    assert "#3 deleted: Row #2 is missing" in out
    assert [(p.seq, p.kind) for p in audit_verify()] == [(3, DELETED)]


def test_a_truncated_log_is_detected():
    record_events(5)
    lift_append_only_guard()
    AuditEvent.objects.filter(seq__gt=3).delete()
    status, out = verify()
    assert status == 1
    assert "#4 truncated: The log ends at row #3, but row #5 was written" in out
    assert [(p.seq, p.kind) for p in audit_verify()] == [(4, TRUNCATED)]


def test_a_row_rewritten_with_its_hash_recomputed_is_detected_at_the_next_row():
    record_events(4)
    lift_append_only_guard()
    forged = AuditEvent.objects.get(seq=2)
    forged.subject = "user:1"
    forged.hash = chain_hash(forged.prev_hash, audit_payload(forged))
    forged.save()
    assert verify()[0] == 1
    assert [(p.seq, p.kind) for p in audit_verify()] == [(3, DELETED)]


def test_a_row_slipped_in_behind_the_heads_back_is_detected():
    last = record_events(2)[-1]
    stray = AuditEvent(seq=3, at=timezone.now(), action="signin.ok", subject="user:1", prev_hash=last.hash)
    stray.hash = chain_hash(stray.prev_hash, audit_payload(stray))
    stray.save(force_insert=True)
    assert [(p.seq, p.kind) for p in audit_verify()] == [(3, CHANGED)]


def test_a_log_whose_head_is_gone_is_reported():
    record_events(2)
    AuditHead.objects.all().delete()
    assert [(p.seq, p.kind) for p in audit_verify()] == [(0, TRUNCATED)]


def test_a_whole_log_rewritten_with_its_head_passes_alone_but_not_against_a_recorded_head():
    record_events(3)
    recorded = audit_verify_report()
    anchor = f"{recorded.head_seq}:{recorded.head_hash}"
    # The one attack the chain cannot see by itself: every row rewritten, every hash recomputed,
    # the head moved to match.
    lift_append_only_guard()
    prev = GENESIS
    for event in AuditEvent.objects.order_by("seq"):
        event.subject, event.prev_hash = "rewritten", prev
        event.hash = prev = chain_hash(prev, audit_payload(event))
        event.save()
    AuditHead.objects.filter(pk=1).update(hash=prev)
    assert verify()[0] == 0
    status, out = verify("--anchor", anchor)
    assert status == 1
    assert "#3 changed:" in out and "recorded outside the database" in out


def test_verify_refuses_a_malformed_anchor():
    with pytest.raises(CommandError, match="SEQ:HASH"):
        call_command("audit", "verify", "--anchor", "3:nothex")


def test_audit_help_explains_verify(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["audit", "--help"])
    assert exit_.value.code == 0
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps lines at the terminal's width
    assert "verify" in out and "exits 0 when the log is intact and 1" in out


@pytest.mark.skipif(connection.vendor != "sqlite", reason="drives its own SQLite database file")
def test_the_pishkhan_command_exits_1_once_the_log_was_tampered_with(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env["PISHKHAN_DATA_DIR"] = str(tmp_path)

    def pishkhan(*args):
        return subprocess.run(
            [sys.executable, "-m", "pishkhan.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    assert pishkhan("migrate", "--verbosity", "0").returncode == 0
    code = "from pishkhan.core.audit import audit_record\nfor _ in range(3): audit_record(action='t.e')"
    assert pishkhan("manage", "shell", "--verbosity", "0", "-c", code).returncode == 0
    clean = pishkhan("audit", "verify")
    assert (clean.returncode, clean.stdout.splitlines()[0][:28]) == (0, "audit log OK: 3 events, head")

    with sqlite3.connect(tmp_path / "pishkhan.sqlite3") as database:
        database.execute("DROP TRIGGER core_auditevent_no_update")
        database.execute("UPDATE core_auditevent SET action = 'signin.ok' WHERE seq = 2")
    database.close()
    tampered = pishkhan("audit", "verify")
    assert tampered.returncode == 1
    assert "#2 changed:" in tampered.stdout
    assert "NOT intact" in tampered.stderr


# --- flushing and concurrent writers (real transactions) ---------------------------------------


@pytest.mark.django_db(transaction=True)
def test_flushing_the_database_empties_the_log_and_keeps_it_append_only():
    record_events(2)
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEvent.objects.exists()
    assert head() == (0, GENESIS)
    event = audit_record(action="test.event")
    assert event.seq == 1
    with pytest.raises(IntegrityError, match="append-only"):
        AuditEvent.objects.filter(pk=event.pk).delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises writers by design")
@pytest.mark.django_db(transaction=True)
def test_writers_in_parallel_threads_queue_on_the_head_and_leave_one_linear_chain():
    writers, per_writer = 8, 25
    start = threading.Barrier(writers, timeout=60)

    def write(writer):
        try:
            start.wait()
            for n in range(per_writer):
                audit_record(action="test.parallel", subject=f"writer:{writer}:{n}")
        finally:
            connection.close()

    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(write, range(writers)))
    assert list(AuditEvent.objects.values_list("seq", flat=True)) == list(range(1, writers * per_writer + 1))
    assert audit_verify() == []


# --- admin -------------------------------------------------------------------------------------


def test_the_admin_shows_audit_events_read_only_and_hides_the_head(admin_client):
    record_events(2, action="signin.ok")
    audit_admin = admin.site._registry[AuditEvent]
    request = type("Request", (), {"user": User.objects.get(username="admin")})()
    assert not audit_admin.has_add_permission(request)
    assert not audit_admin.has_change_permission(request)
    assert not audit_admin.has_delete_permission(request)
    assert AuditHead not in admin.site._registry
    assert Closure in admin.site._registry
    page = admin_client.get("/admin/core/auditevent/", {"action__exact": "signin.ok", "q": "item:2"})
    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == list(AuditEvent.objects.filter(subject="item:2"))
    event = AuditEvent.objects.get(seq=1)
    assert admin_client.get(f"/admin/core/auditevent/{event.pk}/change/").status_code == 200
    assert admin_client.post(f"/admin/core/auditevent/{event.pk}/delete/").status_code == 403
