from datetime import date

from audit.models import AuditEvent
from imports.models import ImportStatus
from patients.models import Patient
from treatments.models import DoseChange, Trial

HEADER = (
    "patient_identifier,date_of_birth,drug,drug_class,start_date,end_date,"
    "starting_dose_mg,maximum_dose_mg,days_at_adequate_dose,adherence,outcome,adequate,"
    "counts_toward_trd,reasons\n"
)


def trials_csv(*rows: str) -> bytes:
    return (HEADER + "".join(row + "\n" for row in rows)).encode()


GOOD = trials_csv(
    "NEW-1,1980-05-17,sertraline,SSRI,2023-01-02,2023-03-13,100,100,70,good,no_response,yes,yes,",
    "new-1,1980-05-17,Effexor,SNRI,2023-04-12,2023-07-11,75,225,77,good,partial_response,yes,yes,",
    "NEW-2,1975-01-01,notadrug,SSRI,2023-01-02,,50,50,0,good,ongoing,no,no,",
    "NEW-3,1975,sertraline,SSRI,2023-01-02,,50,50,0,good,ongoing,no,no,",
    "NEW-4,1975-01-01,sertraline,SSRI,2023-13-40,,50,50,0,good,ongoing,no,no,",
)


def test_the_preview_matches_drugs_lists_unmatched_rows_and_saves_nothing(clinician, upload):
    job = upload(clinician, GOOD)

    assert job.status == ImportStatus.READY
    counts = job.preview["counts"]
    # NEW-2's record is valid (only its drug is not); NEW-3 and NEW-4 could not be read.
    assert [row["identifier"] for row in job.preview["patients"]] == ["NEW-1", "NEW-2"]
    assert counts["trials"] == {"create": 2, "present": 0}
    drugs = [row["drug"] for row in job.preview["trials"]]
    assert drugs == ["sertraline", "venlafaxine"]  # Effexor: matched by brand name
    reasons = {row["row"]: row["reason"] for row in job.preview["unmatched"]}
    assert "matches no drug" in reasons["line 4"]
    assert "de-identified" in reasons["line 5"]
    assert "not a date" in reasons["line 6"]
    assert not Patient.objects.filter(identifier__iexact="new-1").exists()
    assert not Trial.objects.exists()


def test_the_dose_steps_are_rebuilt_from_starting_and_maximum_dose(clinician, upload):
    job = upload(clinician, GOOD)

    venlafaxine = job.preview["trials"][1]
    assert venlafaxine["dose_mg"] == "75"
    # 225 mg reached 77 days before the end (the days at an adequate dose, 150 mg and more).
    assert venlafaxine["dose_changes"] == [["2023-04-25", "225"]]


def test_confirm_creates_the_records_through_the_services_with_audit_events(
    clinician, upload, confirm
):
    job = confirm(clinician, upload(clinician, GOOD))

    assert job.status == ImportStatus.DONE
    assert job.result == {"patients": 2, "trials": 2, "scores": 0}
    patient = Patient.objects.get(identifier="NEW-1")
    assert patient.practice == clinician.membership.practice
    venlafaxine = Trial.objects.get(patient=patient, drug__name="venlafaxine")
    assert list(DoseChange.objects.filter(trial=venlafaxine).values_list("date", "dose_mg")) == [
        (date(2023, 4, 25), 225)
    ]
    creates = AuditEvent.objects.filter(action="create", actor=clinician.username)
    assert creates.filter(object_type__icontains="patient", patient_id=patient.pk).count() == 1
    assert creates.filter(object_type__icontains="trial", patient_id=patient.pk).count() == 2
    assert patient.trd_meets_on is not None  # two failed adequate trials: the services re-evaluated


def test_reimporting_the_same_file_creates_nothing(clinician, upload, confirm):
    confirm(clinician, upload(clinician, GOOD))
    before = (Patient.objects.count(), Trial.objects.count(), DoseChange.objects.count())

    again = upload(clinician, GOOD)

    assert again.preview["counts"]["patients"] == {"create": 0, "present": 2}
    assert again.preview["counts"]["trials"] == {"create": 0, "present": 2}
    again = confirm(clinician, again)
    assert again.result == {"patients": 0, "trials": 0, "scores": 0}
    assert (Patient.objects.count(), Trial.objects.count(), DoseChange.objects.count()) == before


def test_an_existing_patient_is_matched_by_record_number_case_insensitively(
    clinician, patient, upload
):
    data = trials_csv(
        f" {patient.identifier.lower()} ,{patient.date_of_birth},sertraline,SSRI,2023-01-02,"
        "2023-03-13,100,100,70,good,no_response,yes,yes,"
    )

    job = upload(clinician, data)

    assert job.preview["patients"][0]["status"] == "present"
    assert job.preview["counts"]["trials"] == {"create": 1, "present": 0}


def test_reading_a_preview_that_shows_an_existing_patient_is_audited(
    clinician, patient, upload, api, login
):
    from audit.models import AuditEvent

    job = upload(
        clinician,
        trials_csv(
            f"{patient.identifier},{patient.date_of_birth},sertraline,SSRI,2023-01-02,"
            "2023-03-13,100,100,70,good,no_response,yes,yes,"
        ),
    )
    before = AuditEvent.objects.filter(action="view").count()

    api(clinician).get(f"/api/v1/imports/{job.pk}/")
    login(clinician).get(f"/patients/import/{job.pk}/")

    reads = AuditEvent.objects.filter(action="view").order_by("id")[before:]
    assert [event.details.get("api") or event.details.get("page") for event in reads] == [
        "import",
        "import",
    ]
    assert all(
        list(event.patient_links.values_list("patient_id", flat=True)) == [patient.pk]
        for event in reads
    )


def test_a_formula_neutralised_cell_loses_its_quote(clinician, upload):
    data = trials_csv(
        "'=HYPERLINK(1),1980-05-17,sertraline,SSRI,2023-01-02,2023-03-13,100,"
        "100,70,good,no_response,yes,yes,"
    )

    job = upload(clinician, data)

    assert job.preview["patients"][0]["identifier"] == "=HYPERLINK(1)"


def test_confirm_before_the_preview_is_ready_is_409(clinician, api):
    from imports.models import ImportJob

    job = ImportJob.objects.create(
        practice=clinician.membership.practice, kind="csv", sha256="0" * 64, file="imports/x.csv"
    )

    response = api(clinician).post(f"/api/v1/imports/{job.pk}/confirm/")

    assert response.status_code == 409


def test_the_job_reports_its_preview_over_the_api(clinician, upload, api):
    job = upload(clinician, GOOD)

    body = api(clinician).get(f"/api/v1/imports/{job.pk}/").json()

    assert body["status"] == "ready"
    assert body["progress"] == 100
    assert body["preview"]["counts"]["trials"]["create"] == 2
    assert len(body["sha256"]) == 64


def test_the_uploaded_file_is_not_kept_once_previewed(clinician, upload, settings):
    job = upload(clinician, GOOD)

    assert job.status == ImportStatus.READY
    assert not job.file
    assert not list((settings.MEDIA_ROOT / "imports").rglob("*.csv"))
