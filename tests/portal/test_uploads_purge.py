"""What application forms kept and never filed is forgotten: drafts untouched for
DRAFT_KEEP_DAYS go, and with them the files nothing else uses (a day's grace, counted from the last
time anyone sent the same bytes). A case's documents are never touched."""

import datetime as dt

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone

from pishkhan.cases.documents import document_upload
from pishkhan.cases.files import file_check, file_store
from pishkhan.cases.models import StoredFile
from pishkhan.portal.apply import DraftFiles
from pishkhan.portal.models import ApplicationDraft
from pishkhan.portal.uploads import uploads_purge
from tests.cases import hostile
from tests.cases.factories import make_citizen, make_district, publish_definition, small_process, submit_case

pytestmark = pytest.mark.django_db


def store(content: bytes) -> StoredFile:
    upload = SimpleUploadedFile("scan.png", content)
    with file_check(upload=upload, allowed_formats=["png", "pdf"], max_bytes=10**7) as checked:
        return file_store(checked=checked)


def stored(content: bytes, *, days_ago: float) -> StoredFile:
    row = store(content)
    StoredFile.objects.filter(pk=row.pk).update(created_at=timezone.now() - dt.timedelta(days=days_ago))
    return StoredFile.objects.get(pk=row.pk)


def exists(row: StoredFile) -> bool:
    return StoredFile.objects.filter(pk=row.pk).exists() and default_storage.exists(row.storage_name)


@override_settings(DRAFT_KEEP_DAYS=90)
def test_old_drafts_and_files_nothing_uses_go_and_everything_in_use_stays(django_capture_on_commit_callbacks):
    service = publish_definition(small_process())
    fresh_owner, stale_owner = make_citizen(), make_citizen()
    in_fresh_draft = stored(hostile.png(10, 10, "red"), days_ago=30)
    in_stale_draft = stored(hostile.png(11, 10, "blue"), days_ago=200)
    orphan = stored(hostile.png(12, 10, "green"), days_ago=3)
    just_sent = stored(hostile.png(13, 10, "olive"), days_ago=0.2)
    for owner, row in ((fresh_owner, in_fresh_draft), (stale_owner, in_stale_draft)):
        DraftFiles(user=owner, service=service).keep("deed_scan", {"sha256": row.sha256, "name": "scan.png"})
    ApplicationDraft.objects.filter(user=stale_owner).update(
        updated_at=timezone.now() - dt.timedelta(days=91)
    )
    case = submit_case(service=service, district=make_district())
    document = document_upload(
        case=case,
        document_type="deed",
        upload=SimpleUploadedFile("deed.pdf", hostile.pdf()),
        by=case.applicant,
    )
    StoredFile.objects.filter(pk=document.file_id).update(created_at=timezone.now() - dt.timedelta(days=400))

    with django_capture_on_commit_callbacks(execute=True):  # blobs go once each deletion commits
        counts = uploads_purge()

    assert counts == {"drafts": 1, "files": 2}
    assert ApplicationDraft.objects.filter(user=fresh_owner).exists()
    assert not ApplicationDraft.objects.filter(user=stale_owner).exists()
    assert exists(in_fresh_draft) and exists(just_sent) and exists(document.file)
    assert not exists(in_stale_draft) and not exists(orphan)


def test_bytes_sent_again_start_their_grace_again():
    old = stored(hostile.png(14, 10, "navy"), days_ago=5)
    again = stored(hostile.png(14, 10, "navy"), days_ago=5)
    assert again.pk == old.pk
    store(hostile.png(14, 10, "navy"))  # sent again today
    assert uploads_purge() == {"drafts": 0, "files": 0}
    assert StoredFile.objects.filter(pk=old.pk).exists()
