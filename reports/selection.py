"""What an export covers: its options as filters (`TrialScope`: since, until, drug class; the
TRD status), the patients it reads, and the progress reported while the rows stream. Shared by
the writers of reports.exporters and reports.fhir.
"""

from datetime import date
from typing import NamedTuple

from django.db.models import Exists, OuterRef, Prefetch, Q

from patients.models import Patient
from treatments import trd
from treatments.models import DoseChange, Therapy, Trial

from .identity import ExportError

CHUNK_SIZE = 2000
SCOPE_OPTIONS = frozenset({"since", "until", "drug_class"})


def chunked(rows, total: int, progress):
    """Yield `rows`, reporting progress after every CHUNK_SIZE of them and at the end."""
    done = 0
    for row in rows:
        yield row
        done += 1
        if done % CHUNK_SIZE == 0:
            progress(done, total)
    progress(done, total)


class TrialScope(NamedTuple):
    """The trials an export is about: its `since` and `until` options (ISO dates, both
    inclusive, on the trial's start date) and `drug_class`; empty when not given. The trial
    exports and the register filter with `q()` in SQL; the FHIR bundle, which reads every
    trial of a patient for the rule, tests each with `includes()`. Scores and therapies take
    the same dates (`in_range`)."""

    since: str = ""
    until: str = ""
    drug_class: str = ""

    @classmethod
    def of(cls, options: dict) -> "TrialScope":
        return cls(*(options.get(name) or "" for name in cls._fields))

    @property
    def given(self) -> bool:
        return any(self)

    def q(self) -> Q:
        condition = Q()
        if self.since:
            condition &= Q(start_date__gte=self.since)
        if self.until:
            condition &= Q(start_date__lte=self.until)
        if self.drug_class:
            condition &= Q(drug__drug_class=self.drug_class)
        return condition

    def in_range(self, day: date) -> bool:
        text = day.isoformat()
        return not (self.since and text < self.since) and not (self.until and text > self.until)

    def includes(self, trial) -> bool:
        return self.in_range(trial.start_date) and (
            not self.drug_class or trial.drug.drug_class == self.drug_class
        )


def trial_scope(job) -> TrialScope:
    return TrialScope.of(job.options)


def patient_queryset(job):
    """The practice's patients the options select, with their active trials and therapies."""
    options = job.options
    patients = Patient.objects.active().filter(practice_id=job.practice_id)
    if options.get("patient"):
        patients = patients.filter(pk=options["patient"])
        if not patients.exists():
            raise ExportError("The patient no longer exists (removed after the export was asked).")
    if SCOPE_OPTIONS & options.keys():
        in_scope = Trial.objects.active().filter(trial_scope(job).q(), patient=OuterRef("pk"))
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


def status_matches(job, evaluation) -> bool:
    """Whether the patient's evaluation has the TRD status the export asks for (any, if none)."""
    wanted = job.options.get("trd_status")
    return not wanted or evaluation.meets_trd == (wanted == trd.MEETS)
