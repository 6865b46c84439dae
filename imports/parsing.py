"""Reading an uploaded file into plain records, without the database.

Two formats, as our own exports write them: the `trials_csv` export (reports/exporters.py,
TRIAL_HEADER) and the `fhir_bundle` export (reports/fhir.py). Every record keeps where it came
from (`row`), so the preview can say which line or entry could not be used and why. A problem
with the whole file raises ImportFileError (the job fails with its message); a problem with one
row is listed in `unmatched` with its reason.
"""

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from core.json_depth import MAX_DEPTH, depth
from reports.cells import FORMULA_PREFIXES
from reports.exporters import TRIAL_HEADER
from treatments import scales
from treatments.models import Adherence, Outcome

MAX_ROWS = 100_000
PROGRESS_EVERY = 500  # rows (or entries) between progress reports
PSEUDONYM_SYSTEM = re.compile(r"^urn:trdtracker:export:\d+:pseudonym$")
DEIDENTIFIED = (
    "a de-identified export (pseudonym and birth year only) cannot be imported as a patient"
)
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC = "http://loinc.org"
SCALES_SYSTEM = "urn:trdtracker:scales"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
PHQ9_PANEL, PHQ9_TOTAL = "44249-1", "44261-6"
NOTE = re.compile(r"Adherence:\s*(?P<adherence>\w+);\s*outcome:\s*(?P<outcome>\w+)")


class ImportFileError(Exception):
    """The file as a whole cannot be read: shown to the user as it is."""


class RowError(Exception):
    """One row cannot be used; the message is its reason."""


@dataclass
class ParsedFile:
    # identifier (as written) -> {"row", "identifier", "date_of_birth", "diagnosis"}
    patients: dict = field(default_factory=dict)
    # {"row", "patient", "drug_text", "rxnorm", "start_date", "end_date", "dose_mg",
    #  "dose_changes": [[date, dose], ...], "adherence", "outcome", "max_dose_mg",
    #  "days_at_adequate_dose"}  (the last two: CSV only, to rebuild the dose steps)
    trials: list = field(default_factory=list)
    # {"row", "patient", "scale", "date", "total", "items"}
    scores: list = field(default_factory=list)
    unmatched: list = field(default_factory=list)  # {"row", "reason"}

    def refuse(self, row: str, reason: str) -> None:
        self.unmatched.append({"row": row, "reason": reason})

    def add_patient(self, row: str, identifier: str, born: date, diagnosis: str | None) -> str:
        """Record the patient (once per record number, case-insensitively); RowError when the
        same record number came with another date of birth."""
        key = identifier.strip().lower()
        known = self.patients.get(key)
        if known is None:
            self.patients[key] = {
                "row": row,
                "identifier": identifier.strip(),
                "date_of_birth": born.isoformat(),
                "diagnosis": diagnosis,
            }
        elif known["date_of_birth"] != born.isoformat():
            raise RowError(f"record number {identifier!r} appears with two dates of birth")
        elif diagnosis and not known["diagnosis"]:
            known["diagnosis"] = diagnosis
        return key

    @property
    def size(self) -> int:
        return len(self.patients) + len(self.trials) + len(self.scores) + len(self.unmatched)


# --- Cells ---------------------------------------------------------------------------------


def cell(value) -> str:
    """A CSV cell as text: a formula neutralised by our export ('=...) loses its quote."""
    text = (value or "").strip()
    if text.startswith("'") and text[1:].startswith(FORMULA_PREFIXES):
        return text[1:]
    return text


def parse_date(text, what: str, *, required: bool = True) -> date | None:
    if not text:
        if required:
            raise RowError(f"{what} is missing")
        return None
    if not isinstance(text, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text[:10]):
        raise RowError(f"{what} {text!r} is not a date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise RowError(f"{what} {text!r} is not a date (YYYY-MM-DD)") from None


def parse_birth(text) -> date:
    if isinstance(text, str) and re.fullmatch(r"\d{4}", text.strip()):
        raise RowError(DEIDENTIFIED)
    return parse_date(text, "the date of birth")


def parse_dose(text, what: str = "the dose") -> Decimal:
    try:
        dose = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        raise RowError(f"{what} {text!r} is not a number") from None
    if not dose.is_finite() or dose <= 0:
        raise RowError(f"{what} {text!r} is not a positive number")
    return dose


def choice(text: str, choices, what: str) -> str:
    value = (text or "unknown").strip().lower().replace(" ", "_")
    if value not in choices.values:
        raise RowError(f"{what} {text!r} is not one of {', '.join(choices.values)}")
    return value


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(
            f"The file is not UTF-8 text (byte {error.start + 1} cannot be read). Save it as "
            "UTF-8 and upload it again."
        ) from None


def sniff_kind(data: bytes, filename: str = "") -> str:
    """`fhir` for JSON (by name or a leading `{`), else `csv`."""
    if filename.lower().endswith(".json") or data.lstrip()[:1] == b"{":
        return "fhir"
    return "csv"


# --- CSV (the trials_csv export) -------------------------------------------------------------

REQUIRED_COLUMNS = (
    "patient_identifier",
    "date_of_birth",
    "drug",
    "start_date",
    "end_date",
    "starting_dose_mg",
    "adherence",
    "outcome",
)


def parse_csv(data: bytes, progress=None) -> ParsedFile:
    text = decode(data)
    if "\x00" in text:
        raise ImportFileError("The file holds NUL characters: it is not a CSV file.")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [cell(name).lower() for name in next(reader)]
    except StopIteration:
        raise ImportFileError("The file is empty.") from None
    except csv.Error as error:
        raise ImportFileError(f"The CSV cannot be read: {error}.") from None
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise ImportFileError(
            f"This is not a trials CSV: the column(s) {', '.join(missing)} are missing "
            f"(expected the Trials export's columns: {', '.join(TRIAL_HEADER)})."
        )
    parsed = ParsedFile()
    try:
        rows = list(reader)
    except csv.Error as error:
        raise ImportFileError(f"The CSV cannot be read: {error}.") from None
    if len(rows) > MAX_ROWS:
        raise ImportFileError(f"The file has more than {MAX_ROWS:,} rows; split it.")
    for number, values in enumerate(rows, start=2):
        if not any(v.strip() for v in values):
            continue
        row = f"line {number}"
        record = dict(zip(header, (cell(v) for v in values), strict=False))
        try:
            parsed.trials.append(_csv_trial(parsed, row, record))
        except RowError as error:
            parsed.refuse(row, str(error))
        if progress and (number - 1) % PROGRESS_EVERY == 0:
            progress(number - 1, len(rows))
    return parsed


def _csv_trial(parsed: ParsedFile, row: str, record: dict) -> dict:
    identifier = record.get("patient_identifier", "")
    if not identifier:
        raise RowError("the patient's record number is missing")
    born = parse_birth(record.get("date_of_birth"))
    if not record.get("drug"):
        raise RowError("the drug is missing")
    start = parse_date(record.get("start_date"), "the start date")
    end = parse_date(record.get("end_date"), "the end date", required=False)
    dose = parse_dose(record.get("starting_dose_mg"), "the starting dose")
    highest = record.get("maximum_dose_mg")
    days = record.get("days_at_adequate_dose") or "0"
    trial = {
        "row": row,
        "drug_text": record["drug"],
        "rxnorm": None,
        "start_date": start.isoformat(),
        "end_date": end.isoformat() if end else None,
        "dose_mg": str(dose),
        "dose_changes": [],
        "max_dose_mg": str(parse_dose(highest, "the maximum dose")) if highest else None,
        "days_at_adequate_dose": int(days) if days.isdigit() else 0,
        "adherence": choice(record.get("adherence"), Adherence, "the adherence"),
        "outcome": choice(record.get("outcome"), Outcome, "the outcome"),
    }
    trial["patient"] = parsed.add_patient(row, identifier, born, None)
    return trial


# --- FHIR R4 bundles (the fhir_bundle export) --------------------------------------------------


def load_json(data: bytes):
    text = decode(data)
    try:
        document = json.loads(text)
    except RecursionError:
        raise ImportFileError(f"The JSON is nested deeper than {MAX_DEPTH} levels.") from None
    except ValueError as error:
        raise ImportFileError(f"The file is not valid JSON: {error}.") from None
    if depth(document) > MAX_DEPTH:
        raise ImportFileError(f"The JSON is nested deeper than {MAX_DEPTH} levels.")
    return document


def _codings(concept) -> list[dict]:
    if not isinstance(concept, dict) or not isinstance(concept.get("coding"), list):
        return []
    return [c for c in concept["coding"] if isinstance(c, dict)]


def _code(concept, system: str) -> str | None:
    for coding in _codings(concept):
        if coding.get("system") == system and isinstance(coding.get("code"), str):
            return coding["code"]
    return None


def _reference(resource) -> str | None:
    subject = resource.get("subject")
    if isinstance(subject, dict) and isinstance(subject.get("reference"), str):
        return subject["reference"]
    return None


def parse_fhir(data: bytes, diagnoses_by_text: dict, progress=None) -> ParsedFile:
    """`diagnoses_by_text`: Condition code text (lower case) -> Patient.diagnosis key."""
    bundle = load_json(data)
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise ImportFileError('This is not a FHIR Bundle (resourceType must be "Bundle").')
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        raise ImportFileError("The Bundle's `entry` must be a list.")
    if len(entries) > MAX_ROWS:
        raise ImportFileError(f"The bundle has more than {MAX_ROWS:,} entries; split it.")
    parsed = ParsedFile()
    resources, patients = {}, {}  # fullUrl -> resource; fullUrl / Patient/id -> patient key
    for number, entry in enumerate(entries, start=1):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            parsed.refuse(f"entry {number}", "the entry holds no FHIR resource")
            continue
        url = entry.get("fullUrl")
        if isinstance(url, str):
            resources[url] = resource
    members = set()
    for resource in resources.values():
        if resource["resourceType"] == "Observation" and isinstance(
            resource.get("hasMember"), list
        ):
            members.update(m.get("reference") for m in resource["hasMember"] if isinstance(m, dict))
    # Patients first: the other resources point at them.
    for number, entry in enumerate(entries, start=1):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") == "Patient":
            row = f"entry {number} (Patient)"
            try:
                key = _fhir_patient(parsed, row, resource)
            except RowError as error:
                parsed.refuse(row, str(error))
                continue
            if isinstance(entry.get("fullUrl"), str):
                patients[entry["fullUrl"]] = key
            if isinstance(resource.get("id"), str):
                patients[f"Patient/{resource['id']}"] = key
    for number, entry in enumerate(entries, start=1):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or resource.get("resourceType") == "Patient":
            continue
        kind = resource.get("resourceType")
        row = f"entry {number} ({kind})"
        if entry.get("fullUrl") in members:
            continue  # a PHQ-9 total or item: read with its panel
        try:
            key = patients.get(_reference(resource))
            if key is None:
                raise RowError("its subject is not a patient of this bundle that could be read")
            if kind == "Condition":
                text = (
                    (resource.get("code") or {}).get("text", "")
                    if isinstance(resource.get("code"), dict)
                    else ""
                )
                diagnosis = diagnoses_by_text.get(str(text).strip().lower())
                if diagnosis and not parsed.patients[key]["diagnosis"]:
                    parsed.patients[key]["diagnosis"] = diagnosis
                onset = resource.get("onsetDateTime")
                if isinstance(onset, str) and not parsed.patients[key].get("episode_start"):
                    try:
                        parsed.patients[key]["episode_start"] = date.fromisoformat(
                            onset[:10]
                        ).isoformat()
                    except ValueError:
                        raise RowError(f"its onset {onset[:30]!r} is not a date") from None
            elif kind in ("MedicationStatement", "MedicationRequest"):
                parsed.trials.append({**_medication(resource, row), "patient": key})
            elif kind == "Observation":
                parsed.scores.append({**_observation(resource, row, resources), "patient": key})
            else:
                raise RowError(
                    f"{kind} resources are not imported (medication history and scores only)"
                )
        except RowError as error:
            parsed.refuse(row, str(error))
        if progress and number % PROGRESS_EVERY == 0:
            progress(number, len(entries))
    return parsed


def _fhir_patient(parsed: ParsedFile, row: str, resource: dict) -> str:
    identifiers = [i for i in resource.get("identifier") or [] if isinstance(i, dict)]
    if any(PSEUDONYM_SYSTEM.match(str(i.get("system", ""))) for i in identifiers):
        raise RowError(DEIDENTIFIED)
    values = [
        i["value"] for i in identifiers if isinstance(i.get("value"), str) and i["value"].strip()
    ]
    if not values:
        raise RowError("the patient has no identifier (record number)")
    if len(values[0].strip()) > 64:
        raise RowError("the record number is longer than 64 characters")
    born = parse_birth(resource.get("birthDate"))
    return parsed.add_patient(row, values[0], born, None)


def _dosage_dose(dosage: dict):
    for rate in dosage.get("doseAndRate") or []:
        quantity = rate.get("doseQuantity") if isinstance(rate, dict) else None
        if isinstance(quantity, dict) and "value" in quantity:
            unit = str(quantity.get("code") or quantity.get("unit") or "mg")
            if unit != "mg":
                raise RowError(f"a dose is in {unit!r}; only mg is imported")
            return parse_dose(quantity["value"])
    raise RowError("a dosage has no dose quantity")


def _medication(resource: dict, row: str) -> dict:
    concept = resource.get("medicationCodeableConcept")
    if not isinstance(concept, dict):
        raise RowError("the medication is not given as a code or text")
    text = concept.get("text") if isinstance(concept.get("text"), str) else ""
    if not text:
        text = next(
            (c["display"] for c in _codings(concept) if isinstance(c.get("display"), str)), ""
        )
    steps = []
    dosages = resource.get("dosage") or resource.get("dosageInstruction") or []
    for item in dosages if isinstance(dosages, list) else []:
        if not isinstance(item, dict):
            continue
        bounds = ((item.get("timing") or {}).get("repeat") or {}).get("boundsPeriod") or {}
        if not isinstance(bounds, dict):
            bounds = {}
        steps.append(
            (
                parse_date(bounds.get("start"), "a dosage's start"),
                _dosage_dose(item),
                bounds.get("end"),
            )
        )
    if not steps:
        raise RowError("the medication has no dosage with a start date and a dose")
    steps.sort(key=lambda step: step[0])
    period = (
        resource.get("effectivePeriod") if isinstance(resource.get("effectivePeriod"), dict) else {}
    )
    # MedicationRequest has no effectivePeriod: its dosages' bounds give the dates.
    start = parse_date(period.get("start") or steps[0][0].isoformat(), "the start date")
    end = parse_date(period.get("end") if period else steps[-1][2], "the end date", required=False)
    adherence, outcome = "unknown", "unknown"
    for note in resource.get("note") or []:
        found = NOTE.search(str(note.get("text", ""))) if isinstance(note, dict) else None
        if found:
            adherence = choice(found["adherence"], Adherence, "the adherence")
            outcome = choice(found["outcome"], Outcome, "the outcome")
    changes = [[day.isoformat(), str(dose)] for day, dose, _ in steps[1:]]
    return {
        "row": row,
        "drug_text": text,
        "rxnorm": _code(concept, RXNORM),
        "start_date": start.isoformat(),
        "end_date": end.isoformat() if end else None,
        "dose_mg": str(steps[0][1]),
        "dose_changes": changes,
        "adherence": adherence,
        "outcome": outcome,
    }


def _quantity(resource: dict) -> int:
    quantity = resource.get("valueQuantity")
    value = quantity.get("value") if isinstance(quantity, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise RowError("the score has no whole-number total")
    return int(value)


def _item_value(resource: dict) -> int:
    concept = resource.get("valueCodeableConcept")
    for coding in _codings(concept):
        for extension in coding.get("extension") or []:
            if isinstance(extension, dict) and extension.get("url") == ORDINAL_VALUE:
                value = extension.get("valueDecimal")
                if isinstance(value, int | float) and not isinstance(value, bool):
                    return int(value)
    text = concept.get("text") if isinstance(concept, dict) else None
    if isinstance(text, str) and text.strip().isdigit():
        return int(text)
    raise RowError("a PHQ-9 item has no score")


def _observation(resource: dict, row: str, resources: dict) -> dict:
    day = parse_date(resource.get("effectiveDateTime"), "the score's date")
    code = resource.get("code")
    total, items = None, []
    if _code(code, LOINC) == PHQ9_PANEL:
        scale = scales.PHQ9
        item_codes = None
        for member in resource.get("hasMember") or []:
            found = resources.get(member.get("reference")) if isinstance(member, dict) else None
            if not isinstance(found, dict):
                raise RowError("a PHQ-9 panel member is not in the bundle")
            member_code = _code(found.get("code"), LOINC)
            if member_code == PHQ9_TOTAL:
                total = _quantity(found)
            else:
                item_codes = (item_codes or []) + [member_code]
                items.append(_item_value(found))
        if total is None and not items:
            raise RowError("the PHQ-9 panel has neither a total nor items")
    elif _code(code, LOINC) == PHQ9_TOTAL:
        scale, total = scales.PHQ9, _quantity(resource)
    elif _code(code, SCALES_SYSTEM) in (scales.HAMD17, scales.MADRS):
        scale, total = _code(code, SCALES_SYSTEM), _quantity(resource)
        for component in resource.get("component") or []:
            value = component.get("valueInteger") if isinstance(component, dict) else None
            if not isinstance(value, int) or isinstance(value, bool):
                raise RowError("a scale item has no whole-number score")
            items.append(value)
    else:
        raise RowError("only PHQ-9, HAM-D-17 and MADRS observations are imported")
    errors = scales.validate(scale, total, items)
    if errors:
        raise RowError("; ".join(str(message) for message in errors.values()))
    total = scales.total_of(scale, total, items)
    return {"row": row, "scale": scale, "date": day.isoformat(), "total": total, "items": items}
