import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from imports.models import MAX_UPLOAD_BYTES, ImportJob, ImportStatus
from patients.models import Patient

from .conftest import API_IMPORTS
from .test_csv_import import GOOD, HEADER


def test_another_practices_import_is_404(clinician, outsider, upload, api):
    job = upload(clinician, GOOD)

    assert api(outsider).get(f"{API_IMPORTS}{job.pk}/").status_code == 404
    assert api(outsider).post(f"{API_IMPORTS}{job.pk}/confirm/").status_code == 404
    job.refresh_from_db()
    assert job.status == ImportStatus.READY


def test_another_practices_import_page_is_404(clinician, outsider, upload, login):
    job = upload(clinician, GOOD)

    assert login(outsider).get(f"/patients/import/{job.pk}/").status_code == 404


def test_auditors_may_not_upload_read_or_confirm_imports(clinician, auditor, upload, api, login):
    job = upload(clinician, GOOD)
    client = api(auditor)

    sent = client.post(API_IMPORTS, {"file": SimpleUploadedFile("t.csv", GOOD)}, format="multipart")

    assert sent.status_code == 403
    assert client.get(f"{API_IMPORTS}{job.pk}/").status_code == 403
    assert client.post(f"{API_IMPORTS}{job.pk}/confirm/").status_code == 403
    assert login(auditor).get("/patients/import/").status_code == 403
    assert ImportJob.objects.count() == 1


def test_a_file_over_the_size_limit_is_400_and_nothing_is_stored(clinician, api):
    big = SimpleUploadedFile("big.csv", HEADER.encode() + b"x" * MAX_UPLOAD_BYTES)

    response = api(clinician).post(API_IMPORTS, {"file": big}, format="multipart")

    assert response.status_code == 400
    assert "larger than" in response.json()["file"][0]
    assert not ImportJob.objects.exists()


def test_a_json_body_instead_of_a_file_is_415_not_500(clinician, api):
    response = api(clinician).post(API_IMPORTS, {"file": "x"}, format="json")

    assert response.status_code == 415


DEEP = b'{"resourceType": "Bundle", "entry": ' + b"[" * 5000 + b"]" * 5000 + b"}"
HOSTILE = {
    "invalid JSON": (b'{"resourceType": "Bundle", "entry": [', "fhir", "not valid JSON"),
    "deep JSON": (DEEP, "fhir", "nested deeper"),
    "not a bundle": (b'{"resourceType": "Patient"}', "fhir", "not a FHIR Bundle"),
    "entries not a list": (b'{"resourceType": "Bundle", "entry": {}}', "fhir", "must be a list"),
    "not UTF-8": (HEADER.encode() + "MRN-\xe9,1980".encode("latin-1"), "csv", "not UTF-8"),
    "not a trials CSV": (b"name,age\nx,3\n", "csv", "not a trials CSV"),
    "binary": (b"\x00\x01\x02" * 100, "csv", "NUL"),
    "unterminated quote": (HEADER.encode() + b'"MRN-1,1980-01-01\x00', "csv", "NUL"),
}


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_a_hostile_file_fails_the_job_with_a_message_and_saves_nothing(
    case, clinician, upload, api
):
    data, kind, message = HOSTILE[case]

    job = upload(clinician, data, f"upload.{'json' if kind == 'fhir' else 'csv'}", kind=kind)

    assert job.status == ImportStatus.FAILED
    assert message in job.error
    assert not Patient.objects.exists()
    assert api(clinician).post(f"{API_IMPORTS}{job.pk}/confirm/").status_code == 409


def test_odd_values_in_a_bundle_are_refused_row_by_row_not_with_a_crash(clinician, upload):
    entries = [
        None,
        3,
        {"resource": []},
        {
            "fullUrl": 5,
            "resource": {"resourceType": "Patient", "identifier": "x", "birthDate": 1980},
        },
        {"resource": {"resourceType": "Observation", "subject": [], "code": 7}},
    ]
    data = json.dumps({"resourceType": "Bundle", "entry": entries}).encode()

    job = upload(clinician, data, "odd.json")

    assert job.status == ImportStatus.READY, job.error
    assert job.preview["counts"]["unmatched"] == len(entries)
