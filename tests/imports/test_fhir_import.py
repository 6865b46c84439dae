import json

from imports.models import ImportStatus
from patients.models import Patient
from treatments.models import ScaleScore, Trial

PATIENT = {
    "fullUrl": "urn:uuid:p1",
    "resource": {
        "resourceType": "Patient",
        "id": "p1",
        "identifier": [{"system": "urn:example:mrn", "value": "EXT-9"}],
        "birthDate": "1982-02-03",
    },
}
SUBJECT = {"reference": "urn:uuid:p1"}


def bundle(*resources) -> bytes:
    entries = [PATIENT] + [
        {"fullUrl": f"urn:uuid:r{n}", "resource": r} for n, r in enumerate(resources)
    ]
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}).encode()


def medication(
    kind="MedicationStatement",
    coding=None,
    text="",
    start="2023-01-02",
    doses=(("2023-01-02", 50), ("2023-01-20", 100)),
    end="2023-03-30",
):
    concept = {"text": text} if text else {}
    if coding:
        concept["coding"] = [
            {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": coding}
        ]
    field = "dosage" if kind == "MedicationStatement" else "dosageInstruction"
    resource = {
        "resourceType": kind,
        "status": "completed",
        "subject": SUBJECT,
        "medicationCodeableConcept": concept,
        field: [
            {
                "timing": {"repeat": {"boundsPeriod": {"start": day, "end": end}}},
                "doseAndRate": [{"doseQuantity": {"value": dose, "unit": "mg"}}],
            }
            for day, dose in doses
        ],
        "note": [{"text": "Adherence: good; outcome: no_response"}],
    }
    if kind == "MedicationStatement":
        resource["effectivePeriod"] = {"start": start, "end": end}
    return resource


def test_drugs_are_matched_by_rxnorm_code_first_then_by_name(clinician, upload):
    data = bundle(
        medication(coding="36437", text="a name we do not know"),  # sertraline's RxCUI
        medication(
            kind="MedicationRequest",
            text="Prozac",
            start="2023-05-01",
            doses=(("2023-05-01", 20),),
            end="2023-07-01",
        ),
        medication(coding="99999999", text="unknownium", start="2023-06-01"),
    )

    job = upload(clinician, data, "history.json")

    assert job.status == ImportStatus.READY, job.error
    trials = job.preview["trials"]
    assert [(t["drug"], t["dose_mg"], t["dose_changes"]) for t in trials] == [
        ("sertraline", "50", [["2023-01-20", "100"]]),
        ("fluoxetine", "20", []),
    ]
    assert trials[0]["outcome"] == "no_response" and trials[0]["adherence"] == "good"
    [unmatched] = job.preview["unmatched"]
    assert "unknownium" in unmatched["reason"] and "RxNorm 99999999" in unmatched["reason"]
    assert not Patient.objects.filter(identifier="EXT-9").exists()
    assert not Trial.objects.exists()


def test_observations_other_than_the_known_scales_are_listed_with_their_reason(
    clinician, upload, confirm
):
    blood_pressure = {
        "resourceType": "Observation",
        "status": "final",
        "subject": SUBJECT,
        "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
        "effectiveDateTime": "2023-01-05",
    }
    madrs = {
        "resourceType": "Observation",
        "status": "final",
        "subject": SUBJECT,
        "code": {"coding": [{"system": "urn:trdtracker:scales", "code": "madrs"}]},
        "effectiveDateTime": "2023-01-05",
        "valueQuantity": {"value": 31},
    }
    procedure = {"resourceType": "Procedure", "status": "completed", "subject": SUBJECT}

    job = upload(clinician, bundle(blood_pressure, madrs, procedure), "history.json")

    reasons = [r["reason"] for r in job.preview["unmatched"]]
    assert any("only PHQ-9, HAM-D-17 and MADRS" in r for r in reasons)
    assert any("Procedure resources are not imported" in r for r in reasons)
    assert job.preview["counts"]["scores"] == {"create": 1, "present": 0}
    confirm(clinician, job)
    assert ScaleScore.objects.get(patient__identifier="EXT-9").total == 31


def test_a_resource_whose_subject_is_not_in_the_bundle_is_refused(clinician, upload):
    orphan = {**medication(coding="36437"), "subject": {"reference": "Patient/elsewhere"}}

    job = upload(clinician, bundle(orphan), "history.json")

    assert job.preview["counts"]["trials"]["create"] == 0
    assert "subject" in job.preview["unmatched"][0]["reason"]
