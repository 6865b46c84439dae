"""The FHIR R4 bundle export: coded resources built as plain JSON dicts.

One Patient per selected patient, then a Condition for the recorded diagnosis (none while it is
`unknown`), a MedicationStatement per trial with its RxNorm ingredient code and one dosage per dose
segment, an Observation per score (the PHQ-9 as the LOINC panel with its total and items, HAM-D-17
and MADRS under the app's own code system) and a Procedure per therapy.

The codes and their sources live in reports/data/fhir_codes.yaml. No resource claims a profile
(meta.profile): the medication list is the International Patient Summary's shape
(MedicationStatement), not US Core's (MedicationRequest with `reported`).

The bundle is written entry by entry; fhir.resources validates it in the tests only.
"""

import json
import uuid
from datetime import timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path

import yaml
from django.db.models import Prefetch

from treatments import scales
from treatments.models import EctPlacement, Outcome, ScaleScore, TherapyKind
from treatments.selectors import evaluate_patient_trials

from . import selection
from .cells import dose_text
from .identity import Identity
from .selection import chunked, patient_queryset, status_matches, trial_scope

CODES_FILE = Path(__file__).parent / "data" / "fhir_codes.yaml"

IDENTIFIER_SYSTEM = "urn:trdtracker:practice:{practice}:record-number"
PSEUDONYM_SYSTEM = "urn:trdtracker:export:{job}:pseudonym"
STATEMENT_STATUS = {True: "active", False: "completed"}
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"


@cache
def codes() -> dict:
    with open(CODES_FILE, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def coded_entries() -> list[dict]:
    """Every code the data file holds: {"system", "code", "source"} (for its check)."""
    data = codes()
    found = []
    for diagnosis in data["diagnoses"].values():
        found += [{**c, "system": data["systems"][c["system"]]} for c in diagnosis["codes"]]
    phq9 = data["phq9"]
    for entry in [phq9["panel"], phq9["total"], *phq9["items"], *phq9["answers"]]:
        found.append(
            {"system": data["systems"]["loinc"], "code": entry["code"], "source": phq9["source"]}
        )
    for scale in data["local_scales"].values():
        found.append(
            {"system": data["systems"]["scales"], "code": scale["code"], "source": scale["source"]}
        )
    for code in data["rxnorm"]["codes"].values():
        found.append(
            {"system": data["systems"]["rxnorm"], "code": code, "source": data["rxnorm"]["source"]}
        )
    for procedure in data["procedures"].values():
        found += [{**c, "system": data["systems"][c["system"]]} for c in procedure["codes"]]
    return found


def _system(name: str) -> str:
    return codes()["systems"][name]


def _coding(system: str, code: str, display: str | None = None) -> dict:
    coding = {"system": _system(system), "code": code}
    if display:
        coding["display"] = display
    return coding


def _number(value):
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


def _urn(*parts) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, ':'.join(map(str, parts)))}"


def _entry(url: str, resource: dict) -> dict:
    resource = {
        "resourceType": resource["resourceType"],
        "id": url.removeprefix("urn:uuid:"),
        **resource,
    }
    return {"fullUrl": url, "resource": resource}


def fhir_patients(job):
    scores = ScaleScore.objects.active().order_by("date", "id")
    return patient_queryset(job).prefetch_related(
        Prefetch("scores", queryset=scores, to_attr="export_scores")
    )


def fhir_entries(job, progress):
    """The bundle's entries (FHIR R4), patient by patient."""
    identity = Identity(job)
    options, scope = job.options, trial_scope(job)
    patients = fhir_patients(job)
    total = patients.count()
    for patient in chunked(patients.iterator(chunk_size=selection.CHUNK_SIZE), total, progress):
        trials = patient.export_trials
        if options.get("trd_status"):
            if not status_matches(job, evaluate_patient_trials(patient, trials)):
                continue
        patient_url = _urn("trdtracker", job.secret, "patient", patient.pk)
        yield {"fullUrl": patient_url, "resource": patient_resource(job, identity, patient)}
        subject = {"reference": patient_url}
        condition = condition_resource(patient.diagnosis, subject, patient.episode_start)
        if condition:
            yield _entry(_urn("trdtracker", job.secret, "condition", patient.pk), condition)
        for trial in trials:
            if not scope.includes(trial):
                continue
            url = _urn("trdtracker", job.secret, "trial", trial.pk)
            yield _entry(url, medication_statement(trial, subject))
        for score in patient.export_scores:
            if scope.in_range(score.date):
                yield from score_entries(job, score, subject)
        for therapy in patient.export_therapies:
            if scope.in_range(therapy.start_date):
                url = _urn("trdtracker", job.secret, "therapy", therapy.pk)
                yield _entry(url, procedure(therapy, subject))


def patient_resource(job, identity: Identity, patient) -> dict:
    if identity.deidentify:
        resource_id = identity.pseudonym(patient.pk)
        system = PSEUDONYM_SYSTEM.format(job=job.pk)
    else:
        resource_id = f"patient-{patient.pk}"
        system = IDENTIFIER_SYSTEM.format(practice=patient.practice_id)
    return {
        "resourceType": "Patient",
        "id": resource_id,
        "identifier": [{"system": system, "value": identity.label(patient)}],
        "birthDate": identity.birth(patient),
    }


UNRECORDED_EPISODE = "Depressive episode (diagnosis not recorded)"


def condition_resource(diagnosis: str, subject: dict, onset=None) -> dict | None:
    """The diagnosis as a Condition, its onset the current episode's (what the TRD rule counts
    from). With no diagnosis recorded, a text-only Condition carries a recorded onset alone."""
    known = codes()["diagnoses"].get(diagnosis)
    if known is None and onset is None:  # `unknown` and no onset: nothing to say
        return None
    code = {"text": known["text"] if known else UNRECORDED_EPISODE}
    if known and known["codes"]:
        code["coding"] = [_coding(c["system"], c["code"], c.get("display")) for c in known["codes"]]
    condition = {
        "resourceType": "Condition",
        "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": "active"}]},
        "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": "problem-list-item"}]}],
        "code": code,
        "subject": subject,
    }
    if onset is not None:
        condition["onsetDateTime"] = onset.isoformat()
    return condition


def dose_segments(trial) -> list[tuple]:
    """(start, end or None, daily dose) for each dose the trial had: the starting dose until
    the day before the first change, each change until the day before the next, the last until
    the trial's end."""
    steps = [(trial.start_date, trial.dose_mg)]
    steps += [(change.date, change.dose_mg) for change in trial.dose_changes.all()]
    segments = []
    for index, (start, dose) in enumerate(steps):
        if index + 1 < len(steps):
            end = steps[index + 1][0] - timedelta(days=1)
            if end < start:  # changed on the day it began
                continue
        else:
            end = trial.end_date
        segments.append((start, end, dose))
    return segments


def dosage(sequence: int, start, end, dose) -> dict:
    period = {"start": start.isoformat()}
    if end:
        period["end"] = end.isoformat()
    until = f" to {end}" if end else ""
    return {
        "sequence": sequence,
        "text": f"{dose_text(dose)} mg/day (total daily dose) from {start}{until}",
        "timing": {
            "repeat": {"boundsPeriod": period, "frequency": 1, "period": 1, "periodUnit": "d"}
        },
        "doseAndRate": [
            {"doseQuantity": {"value": _number(dose), "unit": "mg", "system": UCUM, "code": "mg"}}
        ],
    }


def medication_statement(trial, subject: dict) -> dict:
    period = {"start": trial.start_date.isoformat()}
    if trial.end_date:
        period["end"] = trial.end_date.isoformat()
    medication = {"text": trial.drug.name}
    rxcui = codes()["rxnorm"]["codes"].get(trial.drug.name)
    if rxcui:
        medication["coding"] = [_coding("rxnorm", rxcui)]
    return {
        "resourceType": "MedicationStatement",
        "status": STATEMENT_STATUS[trial.end_date is None],
        "medicationCodeableConcept": medication,
        "subject": subject,
        "effectivePeriod": period,
        "dosage": [dosage(n, *segment) for n, segment in enumerate(dose_segments(trial), 1)],
        "note": [{"text": f"Adherence: {trial.adherence}; outcome: {trial.outcome}"}],
    }


def _observation(score, subject: dict, code: dict) -> dict:
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey"}]}],
        "code": code,
        "subject": subject,
        "effectiveDateTime": score.date.isoformat(),
    }


def _score_quantity(value: int) -> dict:
    return {"value": value, "unit": "{score}", "system": UCUM, "code": "{score}"}


def score_entries(job, score, subject: dict):
    """A PHQ-9 as its LOINC panel whose members are the total and the nine items; any other
    scale as one Observation under the local code system, its items as components."""
    if score.scale != scales.PHQ9:
        yield _entry(
            _urn("trdtracker", job.secret, "score", score.pk),
            local_scale_observation(score, subject),
        )
        return
    phq9 = codes()["phq9"]
    members = []
    total_url = _urn("trdtracker", job.secret, "score", score.pk, "total")
    total = _observation(
        score,
        subject,
        {"coding": [_coding("loinc", phq9["total"]["code"])], "text": phq9["total"]["text"]},
    )
    total["valueQuantity"] = _score_quantity(score.total)
    members.append(_entry(total_url, total))
    for number, (item, value) in enumerate(zip(phq9["items"], score.items or [], strict=False), 1):
        answer = phq9["answers"][value]
        observation = _observation(
            score, subject, {"coding": [_coding("loinc", item["code"])], "text": item["text"]}
        )
        coding = _coding("loinc", answer["code"], answer["display"])
        coding["extension"] = [{"url": ORDINAL_VALUE, "valueDecimal": value}]
        observation["valueCodeableConcept"] = {"coding": [coding], "text": str(value)}
        members.append(
            _entry(_urn("trdtracker", job.secret, "score", score.pk, number), observation)
        )
    panel = _observation(
        score,
        subject,
        {"coding": [_coding("loinc", phq9["panel"]["code"])], "text": phq9["panel"]["text"]},
    )
    panel["hasMember"] = [{"reference": member["fullUrl"]} for member in members]
    yield _entry(_urn("trdtracker", job.secret, "score", score.pk), panel)
    yield from members


def local_scale_observation(score, subject: dict) -> dict:
    scale = codes()["local_scales"][score.scale]
    name = scales.SCALES[score.scale].name
    observation = _observation(
        score,
        subject,
        {
            "coding": [_coding("scales", scale["code"], scale["display"])],
            "text": name,
        },
    )
    observation["valueQuantity"] = _score_quantity(score.total)
    if score.items:
        observation["component"] = [
            {
                "code": {
                    "coding": [_coding("scales", f"{scale['code']}-item-{number}")],
                    "text": f"{name} item {number}",
                },
                "valueInteger": value,
            }
            for number, value in enumerate(score.items, 1)
        ]
    return observation


def procedure(therapy, subject: dict) -> dict:
    kind = TherapyKind(therapy.kind)
    code = {"text": kind.label + (f": {therapy.detail}" if therapy.detail else "")}
    known = codes()["procedures"].get(therapy.kind)
    if known and known["codes"]:
        code["coding"] = [_coding(c["system"], c["code"], c.get("display")) for c in known["codes"]]
    period = {"start": therapy.start_date.isoformat()}
    if therapy.end_date:
        period["end"] = therapy.end_date.isoformat()
    resource = {
        "resourceType": "Procedure",
        "status": "completed" if therapy.end_date else "in-progress",
        "code": code,
        "subject": subject,
        "performedPeriod": period,
        "outcome": {"text": Outcome(therapy.outcome).label},
    }
    if therapy.kind == TherapyKind.ECT:
        details = [
            f"Electrode placement: {EctPlacement(therapy.ect_placement).label}"
            if therapy.ect_placement
            else ""
        ]
        if therapy.ect_sessions:
            details.append(f"sessions: {therapy.ect_sessions}")
        text = "; ".join(d for d in details if d)
        if text:
            resource["note"] = [{"text": text}]
    return resource


def write_bundle(job, path, progress):
    """Stream the Bundle: entries are written one by one, never held together in memory."""
    with open(path, "w", encoding="utf-8") as out:
        out.write('{"resourceType": "Bundle", "type": "collection", "entry": [')
        for index, entry in enumerate(fhir_entries(job, progress)):
            out.write(("," if index else "") + "\n" + json.dumps(entry))
        out.write("\n]}\n")
