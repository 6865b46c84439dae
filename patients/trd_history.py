"""The TRD flag's history: each change of a patient's TRD status as of today (met or not, the
count of failed adequate trials, whether the definition applies) stored as a TrdStatusChange,
with the actor and the write that caused it.

The services name their write as a `Cause`; `record_changes` compares each patient's status,
read from the stored summary (treatments.services refreshes it first), with the patient's
latest recorded change and writes a row only when they differ. A patient with no recorded
change stands at the empty start, "0 failed trials, not met, definition applies": creating a
patient with no history records nothing, while one created with bipolar depression records
"does not apply". A status that moved with time alone (an open trial reaching six weeks at an
adequate dose) is recorded with no actor and the action "time": by the daily step, or, when a
write comes first that day, just before the write's own change, so the write is not blamed.
"""

from dataclasses import dataclass

from django.db.models import Max

from treatments import diagnosis as diagnoses
from treatments import trd

from .history import CODED_VALUES, FIELD_LABELS, readable_date, readable_value
from .models import TrdStatusChange

EMPTY = (False, 0, True)  # (meets_trd, failed_adequate_trial_count, applicable)
TIME = "time"
SUMMARY_LENGTH = 300


@dataclass(frozen=True)
class Cause:
    """The write that may change the status: who, which record, what was done, in words."""

    actor: object  # a user, a username, or None for no one
    object_type: str = ""
    object_id: object = ""
    action: str = "recalculated"
    summary: str = ""


def time_cause(patient) -> Cause:
    return Cause(
        None, "", "", TIME, "time passed (an open trial reached six weeks at an adequate dose)"
    )


def status_on(stored: dict, applicable: bool, day) -> tuple[bool, int, bool]:
    """The status on `day` that a stored summary (trd_count_steps, trd_meets_on) says."""
    if not applicable:
        return (False, 0, False)
    steps = trd.steps_from_stored(stored.get("trd_count_steps") or [])
    meets_on = stored.get("trd_meets_on")
    return (meets_on is not None and meets_on <= day, trd.count_on(steps, day), True)


def effective_on(stored: dict, day):
    """The day the status `day` sees took effect: the last step of the summary by then."""
    steps = trd.steps_from_stored(stored.get("trd_count_steps") or [])
    return max((step for step, _ in steps if step <= day), default=day)


def stored_summary(patient) -> dict | None:
    if patient.trd_evaluated_on is None:
        return None
    return {"trd_count_steps": patient.trd_count_steps, "trd_meets_on": patient.trd_meets_on}


def latest_changes(patient_ids) -> dict[int, TrdStatusChange]:
    """Each patient's latest recorded change (two queries)."""
    last_ids = (
        TrdStatusChange.objects.filter(patient_id__in=list(patient_ids))
        .values("patient_id")
        .annotate(last=Max("id"))
        .values_list("last", flat=True)
    )
    return {
        change.patient_id: change
        for change in TrdStatusChange.objects.filter(pk__in=list(last_ids))
    }


def _row(patient, status, day, cause: Cause) -> TrdStatusChange:
    actor = cause.actor
    return TrdStatusChange(
        patient_id=patient.pk,
        effective_on=day,
        meets_trd=status[0],
        failed_adequate_trial_count=status[1],
        applicable=status[2],
        actor=str(getattr(actor, "username", actor) or ""),
        cause_object_type=cause.object_type or "",
        cause_object_id=str(cause.object_id or ""),
        cause_action=cause.action,
        cause_summary=(cause.summary or "")[:SUMMARY_LENGTH],
    )


def record_changes(patients, *, as_of, cause: Cause | None, before: dict | None = None) -> int:
    """Record each patient's status as of `as_of` (from the stored summary, already fresh)
    when it differs from the latest recorded one. `before` ({patient id: stored summary before
    the write}) first records what time alone had changed. Returns the rows written."""
    patients = list(patients)
    latest = latest_changes(p.pk for p in patients)
    rows = []
    for patient in patients:
        last = latest.get(patient.pk)
        previous = last.status if last else EMPTY
        old = (before or {}).get(patient.pk)
        if old is not None:
            by_time = status_on(old, previous[2], as_of)
            if by_time != previous:
                rows.append(_row(patient, by_time, effective_on(old, as_of), time_cause(patient)))
                previous = by_time
        applicable = patient.trd_not_applicable_reason is None
        now = status_on(stored_summary(patient) or {}, applicable, as_of)
        if now != previous:
            stored = stored_summary(patient) or {}
            rows.append(_row(patient, now, effective_on(stored, as_of), cause or Cause(None)))
    TrdStatusChange.objects.bulk_create(rows)
    return len(rows)


# --- The cause in plain words ---------------------------------------------------------------

DIAGNOSES = dict(diagnoses.CHOICES)


def _value(field: str, value) -> str:
    if field == "diagnosis":
        return str(DIAGNOSES.get(value, value)).lower()
    if field == "episode_end":
        return readable_date(value) if value else "—"
    text = readable_value(field, value)
    return text.lower() if field in CODED_VALUES else text


def describe(name: str | None, action: str, changes: dict | None = None) -> str:
    """What a write did, as the history says it: "venlafaxine's outcome was set to no
    response", "the diagnosis was set to bipolar depression", "sertraline was removed".
    `name` is the record's name (None for the patient record); `changes` the audit diff."""
    if action == "create":
        return f"{name or 'the patient'} was added"
    if action == "delete":
        return f"{name or 'the patient'} was removed"
    parts = [
        f"{FIELD_LABELS.get(field, field.replace('_', ' '))} was set to {_value(field, pair[1])}"
        for field, pair in (changes or {}).items()
        if isinstance(pair, list | tuple) and len(pair) == 2
    ]
    subject = f"{name}'s " if name else "the "
    if not parts:
        return f"{name or 'the patient'} was changed"
    return (subject + ", ".join(parts))[:SUMMARY_LENGTH]


def trial_name(trial) -> str:
    return trial.drug.name if trial.drug_id else "a trial"


def episode_name(episode) -> str:
    return f"the episode from {readable_date(episode.onset)}"


def met_since(changes) -> TrdStatusChange | None:
    """Of the changes (oldest first), the latest that made the patient meet TRD, when the
    newest still meets it."""
    found, meets = None, False
    for change in changes:
        if change.meets_trd and not meets:
            found = change
        meets = change.meets_trd
    return found if meets else None
