"""The FHIR R4 bundle: coded resources (LOINC, RxNorm, SNOMED CT, ICD-10-CM) that validate with
fhir.resources, for a patient with the whole history the app records."""

from datetime import date

import pytest
import yaml

from reports import fhir
from tests.factories import (
    DoseChangeFactory,
    PatientFactory,
    ScaleScoreFactory,
    TherapyFactory,
    TrialFactory,
    drug,
)

from .exports_support import content, day, fhir_bundle

pytestmark = pytest.mark.usefixtures("eager")

LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
SCALES = "urn:trdtracker:scales"
PHQ9_ITEMS = [
    "44250-9",
    "44255-8",
    "44259-0",
    "44254-1",
    "44251-7",
    "44258-2",
    "44252-5",
    "44253-3",
    "44260-8",
]  # as shared/reference/codes.md lists them, items 1 to 9


@pytest.fixture
def demo_like(practice):
    """A recurrent-MDD patient with three trials (dose changes, one drug without an RxNorm code
    in the reference), a PHQ-9 with items, a HAM-D-17, a MADRS, an ECT and a TMS course."""
    patient = PatientFactory(
        practice=practice,
        identifier="MRN-DEMO",
        date_of_birth=date(1975, 2, 3),
        diagnosis="mdd_recurrent",
    )
    sertraline = TrialFactory(
        patient=patient, drug=drug("sertraline"), start_date=day(0), end_date=day(70), dose_mg=50
    )
    DoseChangeFactory(trial=sertraline, date=day(14), dose_mg=100)
    DoseChangeFactory(trial=sertraline, date=day(28), dose_mg=150)
    TrialFactory(
        patient=patient, drug=drug("trazodone"), start_date=day(80), end_date=day(150), dose_mg=150
    )
    TrialFactory(
        patient=patient,
        drug=drug("venlafaxine"),
        start_date=day(300),
        end_date=None,
        dose_mg=75,
        outcome="ongoing",
    )
    ScaleScoreFactory(patient=patient, scale="phq9", date=day(1), items=[2, 3, 1, 2, 0, 3, 1, 2, 1])
    ScaleScoreFactory(
        patient=patient,
        scale="hamd17",
        date=day(2),
        items=[3, 2, 1, 2, 1, 1, 3, 2, 1, 2, 2, 1, 1, 1, 1, 0, 0],
    )
    ScaleScoreFactory(patient=patient, scale="madrs", date=day(3), total=31)
    TherapyFactory(
        patient=patient,
        kind="ect",
        start_date=day(160),
        end_date=day(190),
        outcome="partial_response",
        ect_placement="right_unilateral",
        ect_sessions=9,
    )
    TherapyFactory(
        patient=patient, kind="tms", start_date=day(200), end_date=None, outcome="ongoing"
    )
    return patient


def resources(data, kind):
    return [e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == kind]


def codings(concept, system):
    return [c["code"] for c in concept.get("coding", []) if c["system"] == system]


def test_the_bundle_validates_and_carries_every_record(run_export, clinician, demo_like):
    job = run_export(clinician, kind="fhir_bundle", patient=demo_like.pk)

    data, bundle = fhir_bundle(job)  # validated by fhir.resources
    assert bundle.type == "collection"
    kinds = [e["resource"]["resourceType"] for e in data["entry"]]
    assert kinds.count("Patient") == 1 and kinds.count("Condition") == 1
    assert kinds.count("MedicationStatement") == 3
    assert kinds.count("Observation") == 1 + 1 + 9 + 2  # PHQ-9 panel, total, items; HAM-D; MADRS
    assert kinds.count("Procedure") == 2
    urls = [e["fullUrl"] for e in data["entry"]]
    assert len(set(urls)) == len(urls)
    patient_url = urls[0]
    assert all(e["resource"]["subject"]["reference"] == patient_url for e in data["entry"][1:])
    assert not any("meta" in e["resource"] for e in data["entry"])  # no profile claimed


def test_the_phq9_is_the_loinc_panel_with_its_total_and_nine_items(
    run_export, clinician, demo_like
):
    data, _ = fhir_bundle(run_export(clinician, kind="fhir_bundle", patient=demo_like.pk))
    observations = {
        e["fullUrl"]: e["resource"]
        for e in data["entry"]
        if e["resource"]["resourceType"] == "Observation"
    }

    (panel,) = [o for o in observations.values() if codings(o["code"], LOINC) == ["44249-1"]]
    assert panel["category"][0]["coding"][0]["code"] == "survey"
    assert panel["effectiveDateTime"] == day(1).isoformat()
    members = [observations[m["reference"]] for m in panel["hasMember"]]
    total, *items = members
    assert codings(total["code"], LOINC) == ["44261-6"]
    assert total["valueQuantity"]["value"] == 15
    assert [codings(item["code"], LOINC)[0] for item in items] == PHQ9_ITEMS
    answers = [item["valueCodeableConcept"]["coding"][0] for item in items]
    assert [a["code"] for a in answers] == [
        "LA6570-1",
        "LA6571-9",
        "LA6569-3",
        "LA6570-1",
        "LA6568-5",
        "LA6571-9",
        "LA6569-3",
        "LA6570-1",
        "LA6569-3",
    ]
    assert [a["extension"][0]["valueDecimal"] for a in answers] == [2, 3, 1, 2, 0, 3, 1, 2, 1]


def test_hamd17_and_madrs_use_the_local_code_system(run_export, clinician, demo_like):
    data, _ = fhir_bundle(run_export(clinician, kind="fhir_bundle", patient=demo_like.pk))
    local = {
        codings(o["code"], SCALES)[0]: o
        for o in resources(data, "Observation")
        if codings(o["code"], SCALES)
    }

    assert set(local) == {"hamd17", "madrs"}
    hamd = local["hamd17"]
    assert hamd["valueQuantity"]["value"] == 24
    assert [c["valueInteger"] for c in hamd["component"]][:3] == [3, 2, 1]
    assert len(hamd["component"]) == 17
    assert local["madrs"]["valueQuantity"]["value"] == 31
    assert "component" not in local["madrs"]
    assert not any(codings(o["code"], LOINC) for o in local.values())


def test_each_drug_carries_its_rxnorm_code_and_dosage_history(run_export, clinician, demo_like):
    data, _ = fhir_bundle(run_export(clinician, kind="fhir_bundle", patient=demo_like.pk))
    statements = {
        s["medicationCodeableConcept"]["text"]: s for s in resources(data, "MedicationStatement")
    }

    sertraline = statements["sertraline"]
    assert codings(sertraline["medicationCodeableConcept"], RXNORM) == ["36437"]
    assert codings(statements["venlafaxine"]["medicationCodeableConcept"], RXNORM) == ["39786"]
    assert "coding" not in statements["trazodone"]["medicationCodeableConcept"]  # no source
    assert (sertraline["status"], statements["venlafaxine"]["status"]) == ("completed", "active")
    doses = [
        (d["doseAndRate"][0]["doseQuantity"]["value"], d["timing"]["repeat"]["boundsPeriod"])
        for d in sertraline["dosage"]
    ]
    assert doses == [
        (50, {"start": day(0).isoformat(), "end": day(13).isoformat()}),
        (100, {"start": day(14).isoformat(), "end": day(27).isoformat()}),
        (150, {"start": day(28).isoformat(), "end": day(70).isoformat()}),
    ]
    assert sertraline["dosage"][0]["doseAndRate"][0]["doseQuantity"]["code"] == "mg"
    assert statements["venlafaxine"]["dosage"][0]["timing"]["repeat"]["boundsPeriod"] == {
        "start": day(300).isoformat()
    }


def test_the_diagnosis_is_a_coded_condition(run_export, clinician, demo_like):
    data, _ = fhir_bundle(run_export(clinician, kind="fhir_bundle", patient=demo_like.pk))

    (condition,) = resources(data, "Condition")
    assert codings(condition["code"], SNOMED) == ["370143000"]
    assert codings(condition["code"], "http://hl7.org/fhir/sid/icd-10-cm") == ["F33"]


@pytest.mark.parametrize(
    ("diagnosis", "conditions"),
    [
        ("unknown", []),
        ("bipolar_depression", [{"text": "Bipolar depression"}]),
    ],
)
def test_an_unrecorded_diagnosis_writes_no_condition_and_an_uncoded_one_only_text(
    run_export, clinician, practice, diagnosis, conditions
):
    patient = PatientFactory(practice=practice, diagnosis=diagnosis)
    data, _ = fhir_bundle(run_export(clinician, kind="fhir_bundle", patient=patient.pk))

    assert [c["code"] for c in resources(data, "Condition")] == conditions


def test_ect_and_tms_are_procedures(run_export, clinician, demo_like):
    data, _ = fhir_bundle(run_export(clinician, kind="fhir_bundle", patient=demo_like.pk))
    procedures = resources(data, "Procedure")

    assert [(p["code"]["text"], p["status"]) for p in procedures] == [
        ("ECT (electroconvulsive therapy)", "completed"),
        ("TMS (transcranial magnetic stimulation)", "in-progress"),
    ]
    assert procedures[0]["performedPeriod"] == {
        "start": day(160).isoformat(),
        "end": day(190).isoformat(),
    }
    assert procedures[0]["note"][0]["text"] == (
        "Electrode placement: Right unilateral; sessions: 9"
    )
    assert procedures[0]["outcome"]["text"] == "Partial response"


def test_a_de_identified_bundle_carries_no_record_number_and_still_validates(
    run_export, auditor, demo_like
):
    job = run_export(auditor, kind="fhir_bundle", deidentify=True)

    raw = content(job).decode()
    assert "MRN-DEMO" not in raw and "1975-02-03" not in raw
    data, _ = fhir_bundle(job)
    (patient,) = resources(data, "Patient")
    assert patient["birthDate"] == "1975" and "pseudonym" in patient["identifier"][0]["system"]


def test_every_code_in_the_data_file_names_a_known_source():
    with open(fhir.CODES_FILE, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    found = fhir.coded_entries()

    assert len(found) > 40
    for entry in found:
        assert entry["code"], entry
        assert entry["source"] in data["sources"], entry
        assert data["sources"][entry["source"]].strip(), entry
    assert [item["code"] for item in data["phq9"]["items"]] == PHQ9_ITEMS
    assert (data["phq9"]["panel"]["code"], data["phq9"]["total"]["code"]) == ("44249-1", "44261-6")


def test_every_rxnorm_code_names_a_drug_of_the_catalog(db):
    from treatments.models import Drug

    names = set(Drug.objects.values_list("name", flat=True))
    assert set(fhir.codes()["rxnorm"]["codes"]) <= names
