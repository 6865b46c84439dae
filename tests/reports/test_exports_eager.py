"""Every export kind end to end with eager Celery (the default settings): the API asks, the
task runs on commit, and the file says what the records say."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from audit.models import Action, AuditEvent
from reports import exporters, selection, services
from reports.models import ExportJob
from reports.tasks import export_expire_task, export_run_task
from tests.factories import PatientFactory, TrialFactory, drug

from .exports_support import (
    API_EXPORTS,
    content,
    csv_rows,
    day,
    fhir_bundle,
    pdf_page_count,
    pdf_text,
    xlsx_rows,
)

pytestmark = pytest.mark.usefixtures("eager")


def test_it_exports_one_row_per_trial_as_csv(run_export, auditor, history):
    job = run_export(auditor, kind="trials_csv")

    assert (job.status, job.progress, job.error) == ("done", 100, "")
    assert job.expires_at == job.finished_at + timedelta(days=7)
    rows = csv_rows(job)
    assert [(r["patient_identifier"], r["drug"]) for r in rows] == [
        ("MRN-1", "sertraline"),
        ("MRN-1", "venlafaxine"),
        ("MRN-2", "imipramine"),
    ]
    venlafaxine = rows[1]
    assert venlafaxine["drug_class"] == "SNRI"
    assert (venlafaxine["start_date"], venlafaxine["end_date"]) == (str(day(100)), str(day(190)))
    assert (venlafaxine["starting_dose_mg"], venlafaxine["maximum_dose_mg"]) == ("75", "225")
    assert venlafaxine["days_at_adequate_dose"] == "76"
    assert (venlafaxine["adherence"], venlafaxine["outcome"]) == ("good", "partial_response")
    assert (venlafaxine["adequate"], venlafaxine["counts_toward_trd"]) == ("yes", "yes")
    imipramine = rows[2]
    assert (imipramine["adequate"], imipramine["counts_toward_trd"]) == ("no", "no")
    assert "below the adequate 150 mg/day" in imipramine["reasons"]
    assert rows[0]["date_of_birth"] == "1980-05-17"


def test_it_exports_the_same_trials_as_xlsx(run_export, auditor, history):
    job = run_export(auditor, kind="trials_xlsx")

    assert job.status == "done"
    rows = xlsx_rows(job)
    assert [r["drug"] for r in rows] == ["sertraline", "venlafaxine", "imipramine"]
    assert rows[1]["counts_toward_trd"] == "yes"
    assert rows[1]["days_at_adequate_dose"] == 76


def test_it_filters_trials_by_dates_class_and_trd_status(run_export, auditor, history):
    dated = run_export(auditor, kind="trials_csv", since=str(day(50)), until=str(day(300)))
    assert [r["drug"] for r in csv_rows(dated)] == ["venlafaxine", "imipramine"]

    ssri = run_export(auditor, kind="trials_csv", drug_class="SSRI")
    assert [r["drug"] for r in csv_rows(ssri)] == ["sertraline"]

    meets = run_export(auditor, kind="trials_csv", trd_status="meets")
    assert {r["patient_identifier"] for r in csv_rows(meets)} == {"MRN-1"}
    not_met = run_export(auditor, kind="trials_csv", trd_status="not_met")
    assert {r["patient_identifier"] for r in csv_rows(not_met)} == {"MRN-2"}


def test_the_register_has_one_row_per_patient_with_count_and_stage(run_export, auditor, history):
    PatientFactory(practice=auditor.membership.practice, identifier="MRN-3")
    job = run_export(auditor, kind="trd_register_csv")

    rows = {r["patient_identifier"]: r for r in csv_rows(job)}
    assert set(rows) == {"MRN-1", "MRN-2", "MRN-3"}
    assert rows["MRN-1"]["meets_trd"] == "yes"
    assert rows["MRN-1"]["failed_adequate_trials"] == "2"
    assert rows["MRN-1"]["stage"] == "II"  # SSRI + SNRI; the bilateral ECT needs stage IV
    assert rows["MRN-1"]["counting_drugs"] == "sertraline; venlafaxine"
    assert (rows["MRN-1"]["last_trial_drug"], rows["MRN-1"]["last_trial_end"]) == (
        "venlafaxine",
        str(day(190)),
    )
    assert (rows["MRN-2"]["meets_trd"], rows["MRN-2"]["stage"]) == ("no", "0")
    assert (rows["MRN-3"]["failed_adequate_trials"], rows["MRN-3"]["last_trial_drug"]) == ("0", "")

    meets = run_export(auditor, kind="trd_register_csv", trd_status="meets")
    assert [r["patient_identifier"] for r in csv_rows(meets)] == ["MRN-1"]


def test_the_audit_export_uses_the_audit_filters(run_export, auditor, clinician, patient, login):
    login(clinician).get(f"/patients/{patient.pk}/")
    job = run_export(auditor, kind="audit_csv", actor="clinician", action="view")

    rows = csv_rows(job)
    assert len(rows) == 1
    assert (rows[0]["actor"], rows[0]["action"], rows[0]["patient_id"]) == (
        "clinician",
        "view",
        str(patient.pk),
    )
    everything = run_export(auditor, kind="audit_csv")
    assert {r["action"] for r in csv_rows(everything)} >= {"view", "export"}


def test_the_patient_pdf_is_a_discussion_sheet(run_export, clinician, patient, history):
    job = run_export(clinician, kind="patient_pdf", patient=patient.pk)

    data = content(job)
    assert job.status == "done"
    assert data.startswith(b"%PDF")
    assert pdf_page_count(data) >= 1
    text = pdf_text(data)
    assert "Patient MRN-1" in text
    assert "Meets the TRD definition" in text
    assert "venlafaxine" in text
    assert "Sources:" in text


def test_the_fhir_bundle_is_valid_r4(run_export, auditor, patient, history):
    job = run_export(auditor, kind="fhir_bundle")

    data, bundle = fhir_bundle(job)
    assert bundle.type == "collection"
    kinds = [entry["resource"]["resourceType"] for entry in data["entry"]]
    assert kinds.count("Patient") == 2
    assert kinds.count("MedicationStatement") == 3
    statements = [
        e["resource"]
        for e in data["entry"]
        if e["resource"]["resourceType"] == "MedicationStatement"
    ]
    mrn1 = next(
        e for e in data["entry"] if e["resource"].get("identifier", [{}])[0].get("value") == "MRN-1"
    )
    assert sum(s["subject"]["reference"] == mrn1["fullUrl"] for s in statements) == 2

    one = run_export(auditor, kind="fhir_bundle", patient=patient.pk)
    data, _ = fhir_bundle(one)
    assert [e["resource"]["resourceType"] for e in data["entry"]] == [
        "Patient",
        "MedicationStatement",
        "MedicationStatement",
        "Procedure",
    ]  # the ECT course


def test_de_identified_exports_hide_identifiers_and_keep_years(
    run_export, auditor, patient, history
):
    job = run_export(auditor, kind="trials_csv", deidentify=True)

    raw = content(job).decode()
    assert "MRN-1" not in raw and "MRN-2" not in raw
    assert "1980-05-17" not in raw
    rows = csv_rows(job)
    assert sorted(r["date_of_birth"] for r in rows) == ["1980", "1980", "1990"]
    by_patient = {}
    for row in rows:
        by_patient.setdefault(row["drug"] != "imipramine", set()).add(row["patient_identifier"])
    assert len(by_patient[True]) == 1  # both of MRN-1's trials share one pseudonym
    assert by_patient[True] != by_patient[False]
    assert len(next(iter(by_patient[True]))) == 10

    again = run_export(auditor, kind="trials_csv", deidentify=True)
    assert {r["patient_identifier"] for r in csv_rows(again)}.isdisjoint(
        {r["patient_identifier"] for r in rows}
    )  # another export, other pseudonyms

    bundle = run_export(auditor, kind="fhir_bundle", deidentify=True)
    raw = content(bundle).decode()
    assert "MRN-1" not in raw and "1980-05-17" not in raw
    data, _ = fhir_bundle(bundle)
    assert {
        e["resource"]["birthDate"]
        for e in data["entry"]
        if e["resource"]["resourceType"] == "Patient"
    } == {"1980", "1990"}

    sheet = run_export(auditor, kind="patient_pdf", patient=patient.pk, deidentify=True)
    assert "MRN-1" not in pdf_text(content(sheet))


def test_progress_is_stored_after_every_chunk(run_export, auditor, practice, patient, monkeypatch):
    for offset in range(5):
        TrialFactory(
            patient=patient,
            drug=drug("sertraline"),
            start_date=day(offset * 80),
            end_date=day(offset * 80 + 60),
        )
    monkeypatch.setattr(selection, "CHUNK_SIZE", 2)
    seen = []
    original = services._set_progress

    def spy(job_id, attempt, done, total):
        original(job_id, attempt, done, total)
        job = ExportJob.objects.get(pk=job_id)
        seen.append((job.status, job.progress))

    monkeypatch.setattr(services, "_set_progress", spy)
    job = run_export(auditor, kind="trials_csv")

    assert seen == [("running", 40), ("running", 80), ("running", 99)]
    assert (job.status, job.progress) == ("done", 100)


def test_a_patient_removed_before_the_run_fails_the_job_without_a_file(
    api, clinician, patient, history, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api(clinician).post(
            API_EXPORTS, {"kind": "patient_pdf", "patient": patient.pk}, format="json"
        )
    patient.deleted_at = timezone.now()
    patient.save()
    for callback in callbacks:
        callback()

    job = ExportJob.objects.get(pk=response.json()["id"])
    assert job.status == "failed"
    assert "no longer exists" in job.error
    assert not job.file
    detail = api(clinician).get(f"{API_EXPORTS}{job.pk}/").json()
    assert (detail["status"], detail["download_url"]) == ("failed", None)
    assert "no longer exists" in detail["error"]


def test_an_unexpected_error_is_stored_and_no_file_is_kept(
    run_export, auditor, history, monkeypatch
):
    def explode(job, path, progress):
        with open(path, "w") as out:
            out.write("half a file")
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(exporters.WRITERS, "trials_csv", (explode, "csv"))
    job = run_export(auditor, kind="trials_csv")

    assert job.status == "failed"
    assert "RuntimeError: disk on fire" in job.error
    assert not job.file


def test_a_redelivered_task_restarts_a_running_job_from_scratch(
    run_export, auditor, history, settings
):
    job = run_export(auditor, kind="trials_csv")
    # As if the worker died after storing the file but before marking the job done.
    with open(job.file.path, "w") as stale:
        stale.write("half a file")
    ExportJob.objects.filter(pk=job.pk).update(status="running", progress=63)

    export_run_task.delay(job.pk)

    job.refresh_from_db()
    assert (job.status, job.progress) == ("done", 100)
    assert len(csv_rows(job)) == 3
    stored = [p for p in (settings.MEDIA_ROOT / "exports").rglob("*") if p.is_file()]
    assert stored == [Path(job.file.path)]


def test_finished_jobs_are_not_run_again(run_export, auditor, history):
    job = run_export(auditor, kind="trials_csv")
    finished = job.finished_at

    export_run_task.delay(job.pk)

    job.refresh_from_db()
    assert job.finished_at == finished


def test_expired_files_are_deleted_and_downloads_answer_410(
    run_export, api, auditor, login, history
):
    job = run_export(auditor, kind="trials_csv")
    fresh = run_export(auditor, kind="trd_register_csv")
    name = job.file.name
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    assert export_expire_task.delay().get() == 1

    job.refresh_from_db()
    assert job.file_deleted and not job.file and job.status == "done"
    assert not fresh.file.storage.exists(name)
    gone = api(auditor).get(f"{API_EXPORTS}{job.pk}/download/")
    assert gone.status_code == 410
    assert gone.json() == {"detail": "This export has expired and its file was deleted."}
    assert login(auditor).get(f"/reports/exports/{job.pk}/download/").status_code == 410
    assert api(auditor).get(f"{API_EXPORTS}{job.pk}/").json()["download_url"] is None
    fresh.refresh_from_db()
    assert fresh.downloadable


def test_the_expiry_task_is_on_the_beat_schedule():
    from trdtracker.celery import app

    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "reports.tasks.export_expire_task" in tasks


def test_requests_and_downloads_are_audited(run_export, api, auditor, history):
    job = run_export(auditor, kind="trials_csv")
    response = api(auditor).get(f"{API_EXPORTS}{job.pk}/download/")
    assert response.status_code == 200
    b"".join(response.streaming_content)

    events = AuditEvent.objects.filter(action=Action.EXPORT, object_id=str(job.pk))
    assert sorted(e.details["event"] for e in events) == [
        "contents",
        "downloaded",
        "finished",
        "requested",
    ]
    downloaded = events.get(details__event="downloaded")
    assert (downloaded.actor, downloaded.details["kind"], downloaded.details["id"]) == (
        "auditor",
        "trials_csv",
        job.pk,
    )
