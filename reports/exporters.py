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

from django.db.models import CharField, Exists, OuterRef, Prefetch, Q
from django.db.models.functions import Cast

from audit.models import AuditEvent
from audit.selectors import filter_events
from core.dates import today
from patients.models import Patient
from treatments import catalog, trd
from treatments.models import DoseChange, Drug, Therapy, Trial
from treatments.selectors import evaluate_patient_trials
from treatments.staging import is_failed_bilateral_ect, thase_rush_stage

from .cells import csv_cell, csv_field, neutralised, xlsx_cell
from .identity import ExportError, Identity
from .models import ExportKind

CHUNK_SIZE = 2000

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


def _dose(value) -> str:
    return trd.format_dose(value) if value is not None else ""


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _chunked(rows, total: int, progress):
    """Yield `rows`, reporting progress after every CHUNK_SIZE of them and at the end."""
    done = 0
    for row in rows:
        yield row
        done += 1
        if done % CHUNK_SIZE == 0:
            progress(done, total)
    progress(done, total)


# --- Trials -------------------------------------------------------------------------------

TRIAL_ORDER = ("patient__identifier", "patient_id", "start_date", "id")


def trial_queryset(job):
    options = job.options
    trials = (
        Trial.objects.active()
        .filter(patient__practice_id=job.practice_id, patient__deleted_at__isnull=True)
        .order_by(*TRIAL_ORDER)
    )
    if options.get("since"):
        trials = trials.filter(start_date__gte=options["since"])
    if options.get("until"):
        trials = trials.filter(start_date__lte=options["until"])
    if options.get("drug_class"):
        trials = trials.filter(drug__drug_class=options["drug_class"])
    if options.get("trd_status"):
        meets = Q(patient__trd_meets_on__lte=today())
        trials = trials.filter(meets if options["trd_status"] == "meets" else ~meets)
    return trials


class PatientRow(NamedTuple):
    pk: int
    identifier: str
    date_of_birth: date
    episode_start: date | None


def _iso(field: str) -> Cast:
    """A date column read as its ISO text ("YYYY-MM-DD"), as SQLite stores it and PostgreSQL
    writes it (DateStyle ISO, the default, which psycopg2's own date parsing expects too). The
    driver builds a date several times slower than date.fromisoformat, and the CSV writes the
    text as it is; any other text fails date.fromisoformat rather than reaching a file."""
    return Cast(field, CharField())


# A trial's columns, then one of its dose changes (NULLs for a trial without any).
TRIAL_COLUMNS = (
    "id",
    "patient_id",
    "patient__identifier",
    _iso("patient__date_of_birth"),
    _iso("patient__episode_start"),
    "drug_id",
    _iso("start_date"),
    _iso("end_date"),
    "dose_mg",
    "adherence",
    "outcome",
    "formulation",
    "dose_changes__date",
    "dose_changes__dose_mg",
)


def _with_dose_changes(rows):
    """(trial row, its dose changes) for each trial of `rows`: the trials LEFT JOINed to their
    dose changes, a trial's rows next to each other and its changes in date order."""
    trial, changes = None, []
    for row in rows:
        if trial is None or row[0] != trial[0]:
            if trial is not None:
                yield trial, tuple(changes)
            trial, changes = row, []
        if row[12] is not None:
            changes.append(trd.DoseChange(row[12], row[13]))
    if trial is not None:
        yield trial, tuple(changes)


def _evaluated_trials(job, progress):
    """(patient, drug, evaluation, highest dose, start and end date as ISO text) for each trial
    of the export, in order: one streamed query of plain tuples (the trials joined to their
    dose changes), each trial evaluated by the TRD rule. A patient's trials come together and
    share one PatientRow.

    Model instances per row, or a dose-change lookup per chunk, made this export several
    times slower than it needs to be; the rule only needs plain facts.
    """
    as_of = today()
    trials = trial_queryset(job)
    total = trials.count()
    drugs = {drug.pk: drug for drug in Drug.objects.all()}
    facts: dict[tuple[int, str], trd.DrugFacts] = {}  # by (drug id, formulation)
    rows = (
        trials.order_by(*TRIAL_ORDER, "dose_changes__date", "dose_changes__id")
        .values_list(*TRIAL_COLUMNS)
        .iterator(chunk_size=CHUNK_SIZE)
    )
    evaluate, trial_facts, parse = trd.evaluate_trial, trd.TrialFacts, date.fromisoformat
    patient = None
    for row, changes in _chunked(_with_dose_changes(rows), total, progress):
        (
            trial_id,
            patient_id,
            identifier,
            born,
            episode_start,
            drug_id,
            start,
            end,
            dose,
            adherence,
            outcome,
            formulation,
            _,
            _,
        ) = row
        if patient is None or patient.pk != patient_id:  # a patient's trials come together
            patient = PatientRow(
                patient_id, identifier, parse(born), parse(episode_start) if episode_start else None
            )
        drug_facts = facts.get((drug_id, formulation))
        if drug_facts is None:
            drug_facts = facts[drug_id, formulation] = catalog.with_formulation(
                drugs[drug_id].facts(), formulation
            )
        evaluation = evaluate(
            trial_facts(
                trial_id,
                drug_facts,
                parse(start),
                parse(end) if end else None,
                dose,
                changes,
                adherence,
                outcome,
            ),
            as_of=as_of,
            episode_start=patient.episode_start,
        )
        highest = max(dose, *(change.dose_mg for change in changes)) if changes else dose
        yield patient, drugs[drug_id], evaluation, highest, start, end


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


def patient_queryset(job):
    """The practice's patients the options select, with their active trials and therapies."""
    options = job.options
    patients = Patient.objects.active().filter(practice_id=job.practice_id)
    if options.get("patient"):
        patients = patients.filter(pk=options["patient"])
        if not patients.exists():
            raise ExportError("The patient no longer exists (removed after the export was asked).")
    in_scope = Trial.objects.active().filter(patient=OuterRef("pk"))
    if options.get("since"):
        in_scope = in_scope.filter(start_date__gte=options["since"])
    if options.get("until"):
        in_scope = in_scope.filter(start_date__lte=options["until"])
    if options.get("drug_class"):
        in_scope = in_scope.filter(drug__drug_class=options["drug_class"])
    if {"since", "until", "drug_class"} & options.keys():
        patients = patients.filter(Exists(in_scope))
    trials = (
        Trial.objects.active()
        .select_related("drug")
        .prefetch_related(Prefetch("dose_changes", queryset=DoseChange.objects.order_by("date")))
        .order_by("start_date", "id")
    )
    return patients.order_by("identifier", "id").prefetch_related(
        Prefetch("trials", queryset=trials, to_attr="export_trials"),
        Prefetch(
            "therapies",
            queryset=Therapy.objects.active().order_by("start_date", "id"),
            to_attr="export_therapies",
        ),
    )


def _status_matches(job, evaluation) -> bool:
    wanted = job.options.get("trd_status")
    return not wanted or evaluation.meets_trd == (wanted == "meets")


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
    for patient in _chunked(patients.iterator(chunk_size=CHUNK_SIZE), total, progress):
        evaluation = evaluate_patient_trials(patient, patient.export_trials, as_of)
        if not _status_matches(job, evaluation):
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
    except (TypeError, ValueError) as error:
        raise ExportError(f"The audit filters are not valid: {error}") from error
    events = filter_events(
        AuditEvent.objects.filter(practice_id=job.practice_id),
        job.practice_id,
        patient=options.get("patient"),
        actor=options.get("actor", ""),
        action=options.get("action", ""),
        since=since,
        until=until,
    )
    total = events.count()
    for event in _chunked(events.iterator(chunk_size=CHUNK_SIZE), total, progress):
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
