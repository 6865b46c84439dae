"""What each export kind writes. Reads stream in chunks; files are written by the caller's path.

Each writer is `write(job, path, progress)`, where `progress(done, total)` is called after
every CHUNK_SIZE rows and at the end. Rows come from `.iterator(chunk_size=CHUNK_SIZE)` (a
server-side cursor on PostgreSQL), so memory stays flat however large the practice.
"""

import csv
import json
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from audit.models import AuditEvent
from audit.selectors import filter_events
from core.dates import today
from patients.models import meets_trd_on
from treatments import trd
from treatments.models import Trial
from treatments.selectors import evaluate_patient_trials, iso_text, stream_trial_facts
from treatments.staging import is_failed_bilateral_ect, thase_rush_stage

from . import selection
from .cells import csv_cell, csv_field, neutralised, xlsx_cell
from .identity import ExportError, Identity
from .models import ExportKind
from .selection import chunked, patient_queryset, status_matches, trial_scope

TRIAL_HEADER = [
    "patient_identifier",
    "date_of_birth",
    "drug",
    "drug_class",
    "start_date",
    "end_date",
    "starting_dose_mg",
    "maximum_dose_mg",
    "days_at_adequate_dose",
    "adherence",
    "outcome",
    "adequate",
    "counts_toward_trd",
    "reasons",
]
REGISTER_HEADER = [
    "patient_identifier",
    "date_of_birth",
    "episode_start",
    "meets_trd",
    "failed_adequate_trials",
    "stage",
    "counting_drugs",
    "last_trial_drug",
    "last_trial_start",
    "last_trial_end",
]
AUDIT_HEADER = [
    "timestamp",
    "actor",
    "action",
    "object_type",
    "object_id",
    "patient_id",
    "ip",
    "details",
]


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


# --- Trials -------------------------------------------------------------------------------

TRIAL_ORDER = ("patient__identifier", "patient_id", "start_date", "id")


def trial_queryset(job):
    options = job.options
    trials = (
        Trial.objects.active()
        .filter(patient__practice_id=job.practice_id, patient__deleted_at__isnull=True)
        .filter(trial_scope(job).q())
        .order_by(*TRIAL_ORDER)
    )
    if options.get("trd_status"):
        meets = meets_trd_on(today(), via="patient__")
        trials = trials.filter(meets if options["trd_status"] == trd.MEETS else ~meets)
    return trials


class PatientRow(NamedTuple):
    pk: int
    identifier: str
    date_of_birth: date
    episode_start: date | None


# The patient's columns beside each trial's facts: dates as ISO text (selectors.iso_text).
PATIENT_COLUMNS = (
    "patient_id",
    "patient__identifier",
    iso_text("patient__date_of_birth"),
    iso_text("patient__episode_start"),
)


def _evaluated_trials(job, progress):
    """(patient, drug (trd.DrugFacts), evaluation, highest dose, start and end date as ISO
    text) for each trial of the export, in order: the trials' facts streamed by
    selectors.stream_trial_facts (one query of plain tuples), each trial evaluated by the TRD
    rule. A patient's trials come together and share one PatientRow.

    Model instances per row, or a dose-change lookup per chunk, made this export several
    times slower than it needs to be; the rule only needs plain facts.
    """
    as_of = today()
    trials = trial_queryset(job)
    total = trials.count()
    evaluate, parse = trd.evaluate_trial, date.fromisoformat
    streamed = stream_trial_facts(trials, *PATIENT_COLUMNS, chunk_size=selection.CHUNK_SIZE)
    patient = None
    for facts, (patient_id, identifier, born, episode_start) in chunked(streamed, total, progress):
        if patient is None or patient.pk != patient_id:  # a patient's trials come together
            patient = PatientRow(
                patient_id, identifier, parse(born), parse(episode_start) if episode_start else None
            )
        evaluation = evaluate(facts, as_of=as_of, episode_start=patient.episode_start)
        dose, changes, end = facts.dose_mg, facts.dose_changes, facts.end_date
        highest = max(dose, *(change.dose_mg for change in changes)) if changes else dose
        yield (
            patient,
            facts.drug,
            evaluation,
            highest,
            facts.start_date.isoformat(),
            end.isoformat() if end else None,
        )


def trial_rows(job, progress):
    """One row per trial (TRIAL_HEADER), typed: dates as dates, doses as Decimals."""
    identity = Identity(job)
    patient = label = birth = None
    for trial_patient, drug, evaluation, highest, _, _ in _evaluated_trials(job, progress):
        if trial_patient is not patient:
            patient = trial_patient
            label, birth = identity.label(patient), identity.birth(patient)
        trial = evaluation.trial
        yield [
            label,
            birth,
            drug.name,
            drug.drug_class,
            trial.start_date,
            trial.end_date,
            trial.dose_mg,
            highest,
            evaluation.days_at_adequate_dose,
            trial.adherence,
            trial.outcome,
            _yes_no(evaluation.adequate),
            _yes_no(evaluation.counts_toward_trd),
            "; ".join(evaluation.reasons),
        ]


def _cells(row) -> list[str]:
    return [csv_cell(value) for value in row]


def write_csv(path, header, rows, cells=_cells):
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(map(cells, rows))


class _Remembered(dict):
    """`convert(key)` for each key, computed on first use: for cells whose values repeat."""

    def __init__(self, convert):
        super().__init__()
        self.convert = convert

    def __missing__(self, key):
        self[key] = value = self.convert(key)
        return value


def _csv_text(*values) -> str:
    """`values` as csv_cell converts them and csv.writer writes them: fields joined by commas."""
    return ",".join(csv_field(csv_cell(value)) for value in values)


def write_trials_csv(job, path, progress):
    """The rows of `trial_rows`, each cell as csv_cell converts it and each line as csv.writer
    writes it, but written here: csv.writer and converting cell by cell took half of this
    export's time. What repeats across trials is converted once and kept as CSV text: the
    patient's two cells, the drug's two, each dose, and adherence, outcome, adequate and counts
    together. Dates are the database's ISO text, day counts plain numbers; only text cells can
    need CSV quoting, and csv_field quotes them as csv.writer does."""
    identity = Identity(job)
    # Doses by their text: hashing a Decimal costs several times what str() and a str hash do.
    doses = _Remembered(lambda text: csv_cell(Decimal(text)))
    choices = _Remembered(lambda key: _csv_text(key[0], key[1], _yes_no(key[2]), _yes_no(key[3])))
    drug_cells = {}  # by name
    patient = patient_cells = None
    with open(path, "w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerow(TRIAL_HEADER)
        write = out.write
        for trial_patient, drug, evaluation, highest, start, end in _evaluated_trials(
            job, progress
        ):
            if trial_patient is not patient:
                patient = trial_patient
                patient_cells = _csv_text(identity.label(patient), identity.birth(patient))
            drug_text = drug_cells.get(drug.name)
            if drug_text is None:
                drug_text = drug_cells[drug.name] = _csv_text(drug.name, drug.drug_class)
            trial, reasons = evaluation.trial, evaluation.reasons
            dose = doses[str(trial.dose_mg)]
            choice_text = choices[
                trial.adherence, trial.outcome, evaluation.adequate, evaluation.counts_toward_trd
            ]
            write(
                f"{patient_cells},{drug_text},{start},{end or ''},{dose},"
                f"{dose if highest is trial.dose_mg else doses[str(highest)]},"
                f"{evaluation.days_at_adequate_dose},{choice_text},"
                f"{csv_field(neutralised('; '.join(reasons))) if reasons else ''}\r\n"
            )


TRIAL_COLUMN_WIDTHS = (16, 12, 18, 16, 12, 12, 12, 12, 10, 11, 18, 10, 12, 60)


def write_trials_xlsx(job, path, progress):
    """Typed cells (dates as dates, doses and days as numbers), a frozen header row with a
    filter, and columns wide enough to read."""
    # Imported here, as .fhir and .pdf are: openpyxl takes 50-100 ms to import, which a process
    # writing only CSV need not pay.
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Trials")
    for index, width in enumerate(TRIAL_COLUMN_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.append(TRIAL_HEADER)
    count = 0
    for row in trial_rows(job, progress):
        sheet.append([xlsx_cell(value) for value in row])
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(TRIAL_HEADER))}{count + 1}"
    book.save(path)


# --- Patients (register; FHIR in reports.fhir) --------------------------------------------------------------


def failed_bilateral_ect(therapies, episode_start=None) -> bool:
    """A failed bitemporal or bifrontal ECT course in the current episode (as the staging)."""
    return any(
        is_failed_bilateral_ect(t.kind, t.ect_placement, t.outcome)
        for t in therapies
        if episode_start is None or t.start_date >= episode_start
    )


def register_rows(job, progress):
    identity = Identity(job)
    as_of = today()
    patients = patient_queryset(job)
    total = patients.count()
    for patient in chunked(patients.iterator(chunk_size=selection.CHUNK_SIZE), total, progress):
        evaluation = evaluate_patient_trials(patient, patient.export_trials, as_of)
        if not status_matches(job, evaluation):
            continue
        counting_classes = {
            e.trial.drug.drug_class for e in evaluation.trials if e.counts_toward_trd
        }
        last = patient.export_trials[-1] if patient.export_trials else None
        yield [
            identity.label(patient),
            identity.birth(patient),
            patient.episode_start,
            _yes_no(evaluation.meets_trd),
            evaluation.failed_adequate_trial_count,
            thase_rush_stage(
                counting_classes,
                failed_bilateral_ect=failed_bilateral_ect(
                    patient.export_therapies, patient.episode_start
                ),
            ),
            "; ".join(evaluation.counting_drugs),
            last.drug.name if last else "",
            last.start_date if last else None,
            last.end_date if last else None,
        ]


def write_trd_register_csv(job, path, progress):
    write_csv(path, REGISTER_HEADER, register_rows(job, progress))


def write_fhir_bundle(job, path, progress):
    from .fhir import write_bundle

    write_bundle(job, path, progress)


# --- Audit trail --------------------------------------------------------------------------


def audit_rows(job, progress):
    options = job.options  # written by the export form, dates in ISO
    try:
        since, until = (
            date.fromisoformat(options[key]) if options.get(key) else None
            for key in ("since", "until")
        )
        events = filter_events(
            AuditEvent.objects.filter(practice_id=job.practice_id),
            job.practice_id,
            patient=options.get("patient"),
            actor=options.get("actor", ""),
            action=options.get("action", ""),
            since=since,
            until=until,
        )
    except (TypeError, ValueError, OverflowError) as error:
        raise ExportError(f"The audit filters are not valid: {error}") from error
    total = events.count()
    for event in chunked(events.iterator(chunk_size=selection.CHUNK_SIZE), total, progress):
        yield [
            event.timestamp.isoformat(),
            event.actor,
            event.action,
            event.object_type,
            event.object_id,
            event.patient_id or "",
            event.ip or "",
            json.dumps(event.details, sort_keys=True),
        ]


def write_audit_csv(job, path, progress):
    write_csv(path, AUDIT_HEADER, audit_rows(job, progress))


def write_patient_pdf(job, path, progress):
    from .pdf import write_discussion_sheet

    write_discussion_sheet(job, path, progress)


WRITERS = {
    ExportKind.TRIALS_CSV: (write_trials_csv, "csv"),
    ExportKind.TRIALS_XLSX: (write_trials_xlsx, "xlsx"),
    ExportKind.TRD_REGISTER_CSV: (write_trd_register_csv, "csv"),
    ExportKind.AUDIT_CSV: (write_audit_csv, "csv"),
    ExportKind.PATIENT_PDF: (write_patient_pdf, "pdf"),
    ExportKind.FHIR_BUNDLE: (write_fhir_bundle, "json"),
}
