from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from imports.models import ImportJob, ImportStatus
from patients.models import Patient

from .test_csv_import import GOOD


def test_a_clinician_uploads_reads_the_preview_and_confirms_on_the_page(
    clinician, login, django_capture_on_commit_callbacks
):
    client = login(clinician)
    assert b"Upload and preview" in client.get("/patients/import/").content

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/patients/import/", {"file": SimpleUploadedFile("trials.csv", GOOD)}
        )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == f"/patients/import/{job.pk}/"

    page = client.get(response.url).content.decode()
    assert "Confirm the import" in page
    assert "matches no drug in the catalog" in page  # the unmatched row's reason
    assert "de-identified" in page
    assert not Patient.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/patients/import/{job.pk}/confirm/")
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert Patient.objects.filter(identifier="NEW-1").exists()
    assert (
        "Imported: 2 patient(s), 2 trial(s), 0 score(s)"
        in client.get(response.url).content.decode()
    )
    assert AuditEvent.objects.filter(details__event="import finished").count() == 1


def test_the_page_refuses_a_file_over_the_size_limit(clinician, login, monkeypatch):
    monkeypatch.setattr("imports.forms.MAX_UPLOAD_BYTES", 100)

    response = login(clinician).post(
        "/patients/import/", {"file": SimpleUploadedFile("big.csv", GOOD)}
    )

    assert response.status_code == 400
    assert b"larger than" in response.content
    assert not ImportJob.objects.exists()


def test_the_patient_list_links_to_the_import_page_for_clinicians_only(clinician, auditor, login):
    assert b'href="/patients/import/"' in login(clinician).get("/patients/").content
    assert b'href="/patients/import/"' not in login(auditor).get("/patients/").content
