"""Who may start, see and download exports, on the Exports page and over the API."""

import pytest

from audit.models import Action, AuditEvent
from reports.models import ExportJob

from .exports_support import API_EXPORTS, WEB_EXPORTS, csv_rows

pytestmark = pytest.mark.usefixtures("eager")


@pytest.fixture
def post(api, django_capture_on_commit_callbacks):
    def send(user, **payload):
        with django_capture_on_commit_callbacks(execute=True):
            return api(user).post(API_EXPORTS, payload, format="json")

    return send


# --- API ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind", ["trials_csv", "trials_xlsx", "trd_register_csv", "audit_csv", "fhir_bundle"]
)
def test_clinicians_may_not_run_practice_wide_exports(post, clinician, history, kind):
    response = post(clinician, kind=kind)

    assert response.status_code == 403
    assert not ExportJob.objects.exists()


@pytest.mark.parametrize("kind", ["patient_pdf", "fhir_bundle"])
def test_clinicians_may_export_one_patient(post, api, clinician, patient, history, kind):
    response = post(clinician, kind=kind, patient=patient.pk)

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "pending" and body["progress"] == 0
    detail = api(clinician).get(f"{API_EXPORTS}{body['id']}/").json()
    assert set(detail) == {"id", "kind", "status", "progress", "error", "download_url", "sha256"}
    assert (detail["kind"], detail["status"], detail["progress"]) == (kind, "done", 100)
    assert detail["download_url"] == f"http://testserver{API_EXPORTS}{body['id']}/download/"
    download = api(clinician).get(detail["download_url"])
    assert download.status_code == 200
    assert api().get(detail["download_url"]).status_code == 401  # the token is needed


CLINICAL_KINDS = ["trials_csv", "trials_xlsx", "trd_register_csv", "patient_pdf", "fhir_bundle"]


@pytest.mark.parametrize("kind", CLINICAL_KINDS)
def test_practice_admins_may_not_export_clinical_data(
    post, login, practice_admin, patient, history, kind
):
    payload = {"kind": kind, "patient": patient.pk}

    assert post(practice_admin, **payload).status_code == 403
    assert login(practice_admin).post(WEB_EXPORTS, payload).status_code == 403
    assert not ExportJob.objects.exists()


def test_practice_admins_export_the_audit_log_and_see_only_such_jobs(
    post, api, login, practice_admin, auditor, history
):
    clinical = post(auditor, kind="trials_csv").json()["id"]
    audit_log = post(practice_admin, kind="audit_csv")
    assert audit_log.status_code == 202

    as_admin = api(practice_admin)
    assert as_admin.get(f"{API_EXPORTS}{audit_log.json()['id']}/download/").status_code == 200
    assert as_admin.get(f"{API_EXPORTS}{clinical}/").status_code == 404
    assert as_admin.get(f"{API_EXPORTS}{clinical}/download/").status_code == 404
    page = login(practice_admin).get(WEB_EXPORTS)
    assert login(practice_admin).get(f"/reports/exports/{clinical}/download/").status_code == 404
    kinds = [value for value, _ in page.context["form"].fields["kind"].choices]
    assert kinds == ["audit_csv"]
    assert [job.pk for job in page.context["jobs"]] == [audit_log.json()["id"]]


def test_auditors_keep_every_export_kind(login, auditor):
    page = login(auditor).get(WEB_EXPORTS)

    kinds = [value for value, _ in page.context["form"].fields["kind"].choices]
    assert kinds == [
        "trials_csv",
        "trials_xlsx",
        "trd_register_csv",
        "audit_csv",
        "patient_pdf",
        "fhir_bundle",
    ]


def test_options_may_be_nested(post, auditor, history):
    response = post(auditor, kind="trials_csv", options={"drug_class": "SSRI"})

    job = ExportJob.objects.get(pk=response.json()["id"])
    assert job.options == {"drug_class": "SSRI"}
    assert [r["drug"] for r in csv_rows(job)] == ["sertraline"]


def test_another_practices_patient_is_not_found(post, clinician, auditor, outsiders_patient):
    assert post(clinician, kind="patient_pdf", patient=outsiders_patient.pk).status_code == 404
    assert post(auditor, kind="fhir_bundle", patient=outsiders_patient.pk).status_code == 404
    assert not ExportJob.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "everything"}, "kind"),
        ({}, "kind"),
        ({"kind": "trials_csv", "since": "2024-02-30"}, "since"),
        ({"kind": "trials_csv", "since": "2024-03-01", "until": "2024-02-01"}, "until"),
        ({"kind": "trials_csv", "trd_status": "maybe"}, "trd_status"),
        ({"kind": "trials_csv", "drug_class": "Homeopathy"}, "drug_class"),
        ({"kind": "patient_pdf"}, "patient"),
        ({"kind": "audit_csv", "action": "dance"}, "action"),
        ({"kind": "audit_csv", "deidentify": True}, "deidentify"),
        ({"kind": "trials_csv", "patient": 1}, "patient"),
    ],
)
def test_invalid_requests_are_refused_with_field_messages(post, auditor, payload, field):
    response = post(auditor, **payload)

    assert response.status_code == 400
    assert field in response.json()
    assert not ExportJob.objects.exists()


def test_another_practices_job_is_not_found(post, api, auditor, outsider, history, other_practice):
    from tests.factories import member

    job_id = post(auditor, kind="trials_csv").json()["id"]
    outside_auditor = member(other_practice, "auditor", username="outside-auditor")

    for user in (outsider, outside_auditor):
        assert api(user).get(f"{API_EXPORTS}{job_id}/").status_code == 404
        assert api(user).get(f"{API_EXPORTS}{job_id}/download/").status_code == 404


def test_clinicians_see_only_their_own_jobs(
    post, api, clinician, colleague, auditor, patient, history
):
    mine = post(clinician, kind="patient_pdf", patient=patient.pk).json()["id"]
    practice_wide = post(auditor, kind="trials_csv").json()["id"]

    assert api(colleague).get(f"{API_EXPORTS}{mine}/").status_code == 404
    assert api(colleague).get(f"{API_EXPORTS}{mine}/download/").status_code == 404
    assert api(clinician).get(f"{API_EXPORTS}{practice_wide}/").status_code == 404
    assert api(auditor).get(f"{API_EXPORTS}{mine}/").status_code == 200


def test_anonymous_requests_are_refused(api, db):
    assert api().post(API_EXPORTS, {"kind": "trials_csv"}, format="json").status_code == 401


# --- Web ---------------------------------------------------------------------------------


def test_auditors_start_an_export_on_the_exports_page(
    login, auditor, history, django_capture_on_commit_callbacks
):
    client = login(auditor)
    page = client.get(WEB_EXPORTS)
    assert b"Start an export" in page.content
    assert b'href="/reports/exports/"' in page.content  # the navbar link

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(WEB_EXPORTS, {"kind": "trials_csv", "drug_class": "SNRI"})

    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert (job.kind, job.options, job.status, job.created_by) == (
        "trials_csv",
        {"drug_class": "SNRI"},
        "done",
        auditor,
    )
    listing = client.get(WEB_EXPORTS).content.decode()
    assert f"/reports/exports/{job.pk}/download/" in listing
    status = client.get(f"/reports/exports/{job.pk}/status/").json()
    assert (status["status"], status["progress"]) == ("done", 100)
    assert status["download_url"] == f"/reports/exports/{job.pk}/download/"
    download = client.get(status["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"patient_identifier,")
    requested = AuditEvent.objects.get(action=Action.EXPORT, details__event="requested")
    assert requested.details["kind"] == "trials_csv"


def test_invalid_web_requests_show_the_form_errors(login, auditor):
    response = login(auditor).post(WEB_EXPORTS, {"kind": "patient_pdf"})

    assert response.status_code == 200
    assert "Choose the patient for the discussion sheet." in response.content.decode()
    assert not ExportJob.objects.exists()


def test_clinicians_export_a_discussion_sheet_from_the_patient_page(
    login, clinician, patient, history, django_capture_on_commit_callbacks
):
    client = login(clinician)
    page = client.get(f"/patients/{patient.pk}/").content.decode()
    assert "Export discussion sheet (PDF)" in page
    assert f'action="/reports/exports/patient/{patient.pk}/"' in page
    assert 'href="/reports/exports/"' not in page  # no Exports link for clinicians

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/reports/exports/patient/{patient.pk}/", {"kind": "patient_pdf"})

    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert (job.kind, job.options, job.status) == ("patient_pdf", {"patient": patient.pk}, "done")
    listing = client.get(WEB_EXPORTS).content.decode()
    assert "Start an export" not in listing
    assert f"/reports/exports/{job.pk}/download/" in listing
    download = client.get(f"/reports/exports/{job.pk}/download/")
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    event = AuditEvent.objects.get(action=Action.EXPORT, details__event="downloaded")
    assert event.patient_id == patient.pk


def test_clinicians_cannot_start_practice_exports_on_the_page(login, clinician):
    assert login(clinician).post(WEB_EXPORTS, {"kind": "trials_csv"}).status_code == 403
    assert not ExportJob.objects.exists()


def test_the_patient_button_refuses_other_practices_and_other_kinds(
    login, clinician, patient, outsiders_patient
):
    client = login(clinician)
    url = "/reports/exports/patient/{}/"
    assert client.post(url.format(outsiders_patient.pk)).status_code == 404
    assert client.post(url.format(patient.pk), {"kind": "trials_csv"}).status_code == 400
    assert not ExportJob.objects.exists()


def test_another_practice_cannot_see_or_download_a_job(login, post, auditor, outsider, history):
    job_id = post(auditor, kind="trials_csv").json()["id"]
    client = login(outsider)

    assert client.get(f"/reports/exports/{job_id}/status/").status_code == 404
    assert client.get(f"/reports/exports/{job_id}/download/").status_code == 404
    assert f"/reports/exports/{job_id}/" not in client.get(WEB_EXPORTS).content.decode()
    assert not AuditEvent.objects.filter(details__event="downloaded").exists()


def test_signed_out_users_are_sent_to_sign_in(client, db):
    response = client.get(WEB_EXPORTS)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
