"""What each export kind writes. Reads stream in chunks; files are written by the caller's path.

Each writer is `write(job, path, progress)`, where `progress(done, total)` is called after
every chunk. Rows come from `.iterator(chunk_size=CHUNK_SIZE)` (a server-side cursor on
PostgreSQL), so memory stays flat however large the practice.
"""

import csv
import hashlib
import hmac
import json
from datetime import date
from typing import NamedTuple

from django.db.models import Exists, OuterRef, Prefetch, Q
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from audit.forms import AuditFilterForm
from audit.models import AuditEvent
from patients.models import Patient
from trdtracker.validators import today
from treatments import catalog, trd
from treatments.models import DoseChange, Drug, Therapy, Trial
from treatments.selectors import evaluate_patient_trials, in_batches
from treatments.staging import is_failed_bilateral_ect

from .cells import csv_cell, xlsx_cell
from .models import ExportKind
from .staging import thase_rush_stage

CHUNK_SIZE = 2000

TRIAL_HEADER = [
    "patient_identifier", "date_of_birth", "drug", "drug_class", "start_date", "end_date",
    "starting_dose_mg", "maximum_dose_mg", "days_at_adequate_dose", "adherence", "outcome",
    "adequate", "counts_toward_trd", "reasons",
]
REGISTER_HEADER = [
    "patient_identifier", "date_of_birth", "episode_start", "meets_trd",
    "failed_adequate_trials", "stage", "counting_drugs", "last_trial_drug", "last_trial_start",
    "last_trial_end",
]
AUDIT_HEADER = [
    "timestamp", "actor", "action", "object_type", "object_id", "patient_id", "ip", "details",
]


class ExportError(Exception):
    """A failure to show the user as it is (no traceback needed)."""


class Identity:
    """How patients appear in one export: as recorded, or de-identified with a pseudonym."""

    def __init__(self, job):
        self.deidentify = bool(job.options.get("deidentify"))
        self._key = job.secret.encode()
        # Every patient written is labelled here, so this is what the export contains
        # (reports.services records it in the audit trail).
        self.included = getattr(job, "patients_included", None)

    def pseudonym(self, patient_id: int) -> str:
        return hmac.new(self._key, str(patient_id).encode(), hashlib.sha256).hexdigest()[:10]

    def label(self, patient) -> str:
        if self.included is not None:
            self.included.add(patient.pk)
        return self.pseudonym(patient.pk) if self.deidentify else patient.identifier

    def birth(self, patient) -> str:
        if self.deidentify:
            return str(patient.date_of_birth.year)
        return patient.date_of_birth.isoformat()


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

def trial_queryset(job):
    options = job.options
    trials = (
        Trial.objects.active()
        .filter(patient__practice_id=job.practice_id, patient__deleted_at__isnull=True)
        .order_by("patient__identifier", "patient_id", "start_date", "id")
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


TRIAL_COLUMNS = (
    "id", "patient_id", "patient__identifier", "patient__date_of_birth",
    "patient__episode_start", "drug_id", "start_date", "end_date", "dose_mg", "adherence",
    "outcome", "formulation",
)


def trial_rows(job, progress):
    """One row per trial, read as plain tuples in chunks with their dose changes.

    Building model instances per row made this export several times slower than it
    needs to be; the rule only needs plain facts.
    """
    identity = Identity(job)
    as_of = today()
    trials = trial_queryset(job)
    total = trials.count()
    drugs = {drug.pk: drug for drug in Drug.objects.all()}
    drug_facts = {pk: drug.facts() for pk, drug in drugs.items()}
    rows = trials.values_list(*TRIAL_COLUMNS).iterator(chunk_size=CHUNK_SIZE)
    for batch in in_batches(_chunked(rows, total, progress), CHUNK_SIZE):
        changes: dict[int, list[trd.DoseChange]] = {}
        for trial_id, day, dose in (
            DoseChange.objects.filter(trial_id__in=[row[0] for row in batch])
            .order_by("trial_id", "date")
            .values_list("trial_id", "date", "dose_mg")
        ):
            changes.setdefault(trial_id, []).append(trd.DoseChange(day, dose))
        for (trial_id, patient_id, identifier, born, episode_start, drug_id, start, end,
             dose, adherence, outcome, formulation) in batch:
            drug = drugs[drug_id]
            trial_changes = changes.get(trial_id, ())
            evaluation = trd.evaluate_trial(
                trd.TrialFacts(
                    id=trial_id, drug=catalog.with_formulation(drug_facts[drug_id], formulation),
                    start_date=start, end_date=end,
                    dose_mg=dose, dose_changes=tuple(trial_changes), adherence=adherence,
                    outcome=outcome,
                ),
                as_of=as_of, episode_start=episode_start,
            )
            patient = PatientRow(patient_id, identifier, born, episode_start)
            highest = max([dose, *(change.dose_mg for change in trial_changes)])
            yield [
                identity.label(patient), identity.birth(patient), drug.name, drug.drug_class,
                start, end, dose, highest,
                evaluation.days_at_adequate_dose, adherence, outcome,
                _yes_no(evaluation.adequate), _yes_no(evaluation.counts_toward_trd),
                "; ".join(evaluation.reasons),
            ]


def write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows([csv_cell(value) for value in row] for row in rows)


def write_trials_csv(job, path, progress):
    write_csv(path, TRIAL_HEADER, trial_rows(job, progress))


TRIAL_COLUMN_WIDTHS = (16, 12, 18, 16, 12, 12, 12, 12, 10, 11, 18, 10, 12, 60)


def write_trials_xlsx(job, path, progress):
    """Typed cells (dates as dates, doses and days as numbers), a frozen header row with a
    filter, and columns wide enough to read."""
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
        Prefetch("therapies", queryset=Therapy.objects.active().order_by("start_date", "id"),
                 to_attr="export_therapies"),
    )


def _status_matches(job, evaluation) -> bool:
    wanted = job.options.get("trd_status")
    return not wanted or evaluation.meets_trd == (wanted == "meets")


def failed_bilateral_ect(therapies, episode_start=None) -> bool:
    """A failed bitemporal or bifrontal ECT course in the current episode (as the staging)."""
    return any(
        is_failed_bilateral_ect(t.kind, t.ect_placement, t.outcome)
        for t in therapies if episode_start is None or t.start_date >= episode_start
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
            identity.label(patient), identity.birth(patient), patient.episode_start,
            _yes_no(evaluation.meets_trd), evaluation.failed_adequate_trial_count,
            thase_rush_stage(
                counting_classes,
                failed_bilateral_ect=failed_bilateral_ect(patient.export_therapies,
                                                          patient.episode_start),
            ),
            "; ".join(evaluation.counting_drugs),
            last.drug.name if last else "", last.start_date if last else None,
            last.end_date if last else None,
        ]


def write_trd_register_csv(job, path, progress):
    write_csv(path, REGISTER_HEADER, register_rows(job, progress))


def write_fhir_bundle(job, path, progress):
    from .fhir import write_bundle

    write_bundle(job, path, progress)


# --- Audit trail --------------------------------------------------------------------------

def audit_rows(job, progress):
    form = AuditFilterForm(job.options)
    if not form.is_valid():
        raise ExportError(f"The audit filters are not valid: {form.errors.as_text()}")
    events = form.filter(AuditEvent.objects.filter(practice_id=job.practice_id), job.practice_id)
    total = events.count()
    for event in _chunked(events.iterator(chunk_size=CHUNK_SIZE), total, progress):
        yield [
            event.timestamp.isoformat(), event.actor, event.action, event.object_type,
            event.object_id, event.patient_id or "", event.ip or "",
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
