"""Every read attributed to its patients: list reads and exports name each patient they showed,
and the trail answers "who saw this patient" by id or record number."""

import pytest

from audit.models import AuditEvent, AuditEventPatient
from reports.models import ExportJob
from tests.factories import PatientFactory
from tests.reports.exports_support import seed_history

AUDIT_API = "/api/v1/audit-events/"


@pytest.fixture
def three(practice):
    return [PatientFactory(practice=practice, identifier=f"LIST-{n}") for n in range(3)]


def shown_by(event) -> set[int]:
    return set(AuditEventPatient.objects.filter(event=event).values_list("patient_id", flat=True))


def test_the_patient_list_page_records_one_read_naming_each_patient_shown(login, clinician, three):
    login(clinician).get("/patients/")

    (event,) = AuditEvent.objects.filter(action="view")
    assert (event.actor, event.details) == ("clinician", {"page": "patient-list", "patients": 3})
    assert shown_by(event) == {p.pk for p in three}


def test_the_patient_list_endpoint_records_one_read_naming_each_patient_shown(
    api, clinician, three
):
    assert api(clinician).get("/api/v1/patients/").status_code == 200

    (event,) = AuditEvent.objects.filter(action="view")
    assert event.details == {"api": "patients", "patients": 3}
    assert shown_by(event) == {p.pk for p in three}


def test_an_empty_list_records_no_read(login, api, clinician, db):
    login(clinician).get("/patients/")
    api(clinician).get("/api/v1/patients/")

    assert not AuditEvent.objects.filter(action="view").exists()


@pytest.mark.usefixtures("eager")
@pytest.mark.parametrize(
    ("kind", "contains"),
    [
        ("trials_csv", {"MRN-1", "MRN-2"}),
        ("trials_xlsx", {"MRN-1", "MRN-2"}),
        ("trd_register_csv", {"MRN-1", "MRN-2"}),
        ("fhir_bundle", {"MRN-1", "MRN-2"}),
        ("patient_pdf", {"MRN-1"}),
    ],
)
def test_an_export_records_every_patient_it_contains(
    api,
    auditor,
    practice,
    patient,
    kind,
    contains,
    django_capture_on_commit_callbacks,
    settings,
    tmp_path,
):
    settings.MEDIA_ROOT = tmp_path
    seed_history(practice, patient)
    payload = {"kind": kind, **({"patient": patient.pk} if kind == "patient_pdf" else {})}
    with django_capture_on_commit_callbacks(execute=True):
        response = api(auditor).post("/api/v1/exports/", payload, format="json")
    job = ExportJob.objects.get(pk=response.json()["id"])
    assert job.status == "done", job.error

    event = AuditEvent.objects.get(action="export", details__event="contents")
    assert event.details == {
        "event": "contents",
        "kind": kind,
        "id": job.pk,
        "patients": len(contains),
    }
    named = shown_by(event)
    assert {p.identifier for p in patient.__class__.objects.filter(pk__in=named)} == contains


def test_the_trail_finds_list_reads_by_patient_id_and_record_number(
    api, login, clinician, auditor, three
):
    login(clinician).get("/patients/")
    api(clinician).get(f"/api/v1/patients/{three[0].pk}/")
    target = three[0]

    by_id = api(auditor).get(AUDIT_API, {"patient": target.pk}).json()["results"]
    by_number = api(auditor).get(AUDIT_API, {"identifier": "LIST-0"}).json()["results"]
    other = api(auditor).get(AUDIT_API, {"identifier": "LIST-1"}).json()["results"]

    assert by_id == by_number
    assert sorted(e["details"].get("page") or e["details"].get("api") for e in by_id) == [
        "patient",
        "patient-list",
    ]
    assert [e["details"].get("page") for e in other] == ["patient-list"]
    assert api(auditor).get(AUDIT_API, {"identifier": "NOBODY"}).json()["results"] == []


def test_the_audit_page_filters_by_record_number_and_reads_like_sentences(
    login, clinician, auditor, three, api
):
    login(clinician).get("/patients/")
    api(clinician).patch(f"/api/v1/patients/{three[1].pk}/", {"notes": "reviewed"}, format="json")

    page = login(auditor).get("/audit/", {"identifier": "LIST-1"}).content.decode()

    assert "Listed 3 patient(s) (patient list)" in page
    assert "notes: — → reviewed" in page
    assert "{&#x27;" not in page and "{'" not in page  # no dict reprs


def test_the_access_report_lists_who_saw_changed_and_exported_a_patient(
    login, api, clinician, colleague, auditor, practice_admin, three
):
    target = three[2]
    login(clinician).get("/patients/")
    api(colleague).patch(f"/api/v1/patients/{target.pk}/", {"notes": "x"}, format="json")
    url = f"/audit/patients/{target.pk}/"

    for reader in (auditor, practice_admin):
        response = login(reader).get(url)
        assert response.status_code == 200
        people = {p["actor"]: p for p in response.context["people"]}
        assert (people["clinician"]["views"], people["colleague"]["changes"]) == (1, 1)
    assert login(clinician).get(url).status_code == 403
