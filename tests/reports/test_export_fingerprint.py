"""Each finished export stores the SHA-256 of its file: in the API, on the Exports page, in the
audit trail, and `manage.py verify_export FILE` traces a file back to its export."""

import hashlib
import io

import pytest
from django.core.management import CommandError, call_command

from audit.models import Action, AuditEvent
from reports import services
from reports.models import ExportJob

from .exports_support import API_EXPORTS, WEB_EXPORTS

pytestmark = pytest.mark.usefixtures("eager")


def downloaded(api, user, job) -> bytes:
    response = api(user).get(f"{API_EXPORTS}{job.pk}/download/")
    assert response.status_code == 200
    return b"".join(response.streaming_content)


@pytest.mark.parametrize("kind", ["trials_csv", "fhir_bundle", "audit_csv"])
def test_the_stored_fingerprint_is_the_sha256_of_the_downloaded_file(
    run_export, api, auditor, history, kind
):
    job = run_export(auditor, kind=kind)

    expected = hashlib.sha256(downloaded(api, auditor, job)).hexdigest()
    assert job.sha256 == expected
    detail = api(auditor).get(f"{API_EXPORTS}{job.pk}/").json()
    assert detail["sha256"] == expected


def test_the_fingerprint_is_null_until_the_export_is_done(api, auditor, practice):
    job = ExportJob.objects.create(practice=practice, created_by=auditor, kind="trials_csv")

    detail = api(auditor).get(f"{API_EXPORTS}{job.pk}/").json()
    assert (detail["status"], detail["sha256"]) == ("pending", None)


def test_the_finished_event_in_the_audit_trail_carries_the_fingerprint(
    run_export, auditor, history
):
    job = run_export(auditor, kind="trials_csv")

    event = AuditEvent.objects.get(
        action=Action.EXPORT, object_id=str(job.pk), details__event="finished"
    )
    assert event.details == {
        "event": "finished",
        "kind": "trials_csv",
        "id": job.pk,
        "sha256": job.sha256,
    }
    assert event.actor == "auditor"


def test_the_exports_page_shows_the_fingerprint_shortened_with_the_full_value(
    run_export, login, auditor, history
):
    job = run_export(auditor, kind="trials_csv")

    page = login(auditor).get(WEB_EXPORTS).content.decode()
    assert f'title="{job.sha256}">{job.sha256[:12]}…</code>' in page


def test_the_hash_reads_the_file_in_chunks(monkeypatch):
    monkeypatch.setattr(services, "HASH_CHUNK", 7)
    data = b"trial,drug\n" * 100
    reads = []

    class Counting(io.BytesIO):
        def read(self, size=-1):
            reads.append(size)
            return super().read(size)

    assert services.file_sha256(Counting(data)) == hashlib.sha256(data).hexdigest()
    assert set(reads) == {7} and len(reads) > 100


def test_verify_export_names_the_export_a_file_came_from(
    run_export, api, auditor, practice, history, tmp_path
):
    job = run_export(auditor, kind="trials_csv")
    copy = tmp_path / "found.csv"
    copy.write_bytes(downloaded(api, auditor, job))
    out = io.StringIO()

    call_command("verify_export", str(copy), stdout=out)

    text = out.getvalue()
    assert f"export #{job.pk}: trials_csv of {practice.name}" in text
    assert job.created_at.isoformat() in text and "by auditor" in text


def test_verify_export_says_a_changed_file_matches_none(
    run_export, api, auditor, history, tmp_path
):
    job = run_export(auditor, kind="trials_csv")
    copy = tmp_path / "changed.csv"
    copy.write_bytes(downloaded(api, auditor, job).replace(b"sertraline", b"Sertraline"))

    with pytest.raises(CommandError, match="matches none of the exports") as raised:
        call_command("verify_export", str(copy))
    assert raised.value.returncode == 1


def test_verify_export_reports_a_missing_file(db, tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("verify_export", str(tmp_path / "nothing.csv"))


def test_another_practice_cannot_read_the_fingerprint(run_export, api, auditor, outsider, history):
    job = run_export(auditor, kind="trials_csv")

    response = api(outsider).get(f"{API_EXPORTS}{job.pk}/")
    assert response.status_code == 404
    assert job.sha256 not in response.content.decode()
