"""The patients in four disjoint groups by their TRD status on a day, as SQL conditions on
the stored summaries (patients.models) and the trials' stored figures: the dashboard counts
them (reports.dashboard.patient_counts) and the patient list filters by them (`?trd=`, with
`?drug_class=&outcome=` for the dashboard's table of trials), so both say the same thing.
"""

from datetime import date

from django.db.models import Exists, OuterRef, Q

from treatments import trd
from treatments.models import Drug, Outcome, Trial

from .models import any_failed_trial_on, meets_trd_on, one_failed_trial_on


def pseudo_resistance(as_of: date) -> Q:
    """(Possible) pseudo-resistance: does not meet TRD, at least one antidepressant trial
    failed (no or partial response), but none of the failures was adequate."""
    failed_antidepressant = Trial.objects.active().filter(
        patient=OuterRef("pk"),
        counts_as_antidepressant=True,
        outcome__in=sorted(trd.COUNTING_OUTCOMES),
    )
    return ~any_failed_trial_on(as_of) & Exists(failed_antidepressant)


def no_failed_trial(as_of: date) -> Q:
    """Everyone else: no failed antidepressant trial."""
    return ~meets_trd_on(as_of) & ~one_failed_trial_on(as_of) & ~pseudo_resistance(as_of)


# The values of the list's ?trd= beyond the TRD statuses (trd.MEETS, trd.ONE_FAILED).
PSEUDO = "pseudo"
OTHER = "other"

PATIENT_GROUPS = {
    trd.MEETS: ("patients meeting TRD", meets_trd_on),
    trd.ONE_FAILED: ("patients with one adequate failed trial", one_failed_trial_on),
    PSEUDO: ("patients with possible pseudo-resistance", pseudo_resistance),
    OTHER: ("patients with no failed antidepressant trial", no_failed_trial),
}


def patient_filter(params, as_of: date) -> tuple[Q | None, str]:
    """The dashboard's filter of the patient list from query parameters, and what it shows in
    words; (None, "") when none applies. Unknown values are ignored, never an error:
    ``trd`` one of PATIENT_GROUPS; ``drug_class`` (a class of the catalog) with an optional
    ``outcome``: patients with an active trial of that class (and outcome)."""
    condition, subject, detail = None, "patients", ""
    group = PATIENT_GROUPS.get(params.get("trd", ""))
    if group is not None:
        subject, condition = group[0], group[1](as_of)
    drug_class = params.get("drug_class", "")[:100]
    if drug_class and Drug.objects.filter(drug_class=drug_class).exists():
        trials = Trial.objects.active().filter(patient=OuterRef("pk"), drug__drug_class=drug_class)
        detail = f" with a trial of the class {drug_class}"
        outcome = params.get("outcome", "")
        if outcome in Outcome.values:
            trials = trials.filter(outcome=outcome)
            detail += f" (outcome: {Outcome(outcome).label.lower()})"
        condition = Q(Exists(trials)) if condition is None else condition & Exists(trials)
    if condition is None:
        return None, ""
    return condition, subject + detail
