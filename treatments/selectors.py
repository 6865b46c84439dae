"""Reads: load a patient's records in a constant number of queries and evaluate them."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Prefetch

from trdtracker.validators import today

from . import options, trd
from .models import DoseChange, Therapy, Trial


def active_trials(patient_ids):
    return (
        Trial.objects.active()
        .filter(patient_id__in=patient_ids)
        .select_related("drug")
        .prefetch_related(Prefetch("dose_changes", queryset=DoseChange.objects.order_by("date")))
        .order_by("start_date", "id")
    )


def active_therapies(patient):
    return Therapy.objects.active().filter(patient=patient).order_by("start_date", "id")


def evaluate_patient_trials(patient, trials, as_of: date | None = None) -> trd.TrdEvaluation:
    return trd.evaluate(
        [trial.facts() for trial in trials],
        as_of=as_of or today(),
        episode_start=patient.episode_start,
    )


@dataclass(frozen=True)
class PatientHistory:
    """Everything the patient page shows, loaded once."""

    patient: object
    trials: list
    therapies: list
    evaluation: trd.TrdEvaluation
    options: list

    def trial_evaluations(self):
        by_id = {e.trial.id: e for e in self.evaluation.trials}
        return [(trial, by_id.get(trial.pk)) for trial in self.trials]


def patient_history(patient, as_of: date | None = None) -> PatientHistory:
    trials = list(active_trials([patient.pk]))
    therapies = list(active_therapies(patient))
    evaluation = evaluate_patient_trials(patient, trials, as_of)
    return PatientHistory(
        patient=patient,
        trials=trials,
        therapies=therapies,
        evaluation=evaluation,
        options=patient_options(trials, therapies),
    )


def patient_options(trials, therapies) -> list[options.PatientOption]:
    return options.options_for_patient(
        therapy_kinds={therapy.kind for therapy in therapies},
        drug_names={trial.drug.name for trial in trials},
        drug_classes={trial.drug.drug_class for trial in trials},
    )
