"""The patient page's change history in plain words: what was added, changed or removed (named
as a clinician would name it), each change as "field: before → after" with display values, and
the reason given for a removal. `describe` is pure; `record_names` reads the names."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from treatments import scales
from treatments.models import (
    Adherence,
    Decision,
    Discussion,
    Outcome,
    ScaleScore,
    Therapy,
    TherapyKind,
    Trial,
)

from .models import Patient

FIELD_LABELS = {
    "identifier": "record number",
    "date_of_birth": "date of birth",
    "episode_start": "episode start",
    "baseline_severity": "severity at episode start",
    "suicide_risk_flag": "suicide-risk flag",
    "notes": "notes",
    "drug": "drug",
    "start_date": "start",
    "end_date": "end",
    "dose_mg": "starting dose",
    "dose_changes": "dose changes",
    "adherence": "adherence",
    "outcome": "outcome",
    "reason_stopped": "reason stopped",
    "kind": "therapy",
    "detail": "detail",
    "scale": "scale",
    "date": "date",
    "total": "total",
    "item_scores": "PHQ-9 items",
    "option_key": "option",
    "decision": "decision",
    "onset": "onset",
    "ended": "ended",
}
CODED_VALUES = {
    "adherence": dict(Adherence.choices),
    "outcome": dict(Outcome.choices),
    "kind": dict(TherapyKind.choices),
    "scale": dict(scales.SCALE_CHOICES),
    "decision": dict(Decision.choices),
    "baseline_severity": dict(Patient._meta.get_field("baseline_severity").choices),
}
RECORD_NOUNS = {
    "patient": "patient record",
    "trial": "trial",
    "therapy": "therapy",
    "scalescore": "score",
    "discussion": "discussion",
    "episode": "episode",
}
VERBS = {"create": "Added", "update": "Changed", "delete": "Removed"}
HIDDEN_FIELDS = {"deleted_at"}


@dataclass(frozen=True)
class Change:
    label: str
    before: str | None  # None on an addition: only the new value is shown
    after: str


@dataclass(frozen=True)
class HistoryEntry:
    timestamp: object
    actor: str
    title: str
    changes: list[Change] = field(default_factory=list)
    reason: str = ""


def readable_date(value) -> str:
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{day.day} {day:%b %Y}"


def readable_value(name: str, value) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if name in CODED_VALUES:
        return str(CODED_VALUES[name].get(value, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name in {
        "date_of_birth",
        "episode_start",
        "start_date",
        "end_date",
        "date",
        "onset",
        "ended",
    }:
        return readable_date(value)
    if name == "dose_mg":
        return f"{value} mg/day"
    if name == "dose_changes" and isinstance(value, list):
        return "; ".join(f"{dose} mg/day from {readable_date(day)}" for day, dose in value)
    if name == "item_scores" and isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def describe(event, names: dict[tuple[str, str], str]) -> HistoryEntry:
    """One audit event (create, update or delete of a patient's record) as a history entry;
    `names` gives each record's name by (object_type, object_id)."""
    details = event.details or {}
    noun = RECORD_NOUNS.get(event.object_type, "record")
    name = names.get((event.object_type, str(event.object_id)), "")
    title = f"{VERBS.get(event.action, event.action.capitalize())} {noun}"
    if name and event.object_type != "patient":
        title += f": {name}"
    changes = []
    if event.action != "delete":
        for key, values in (details.get("changes") or {}).items():
            if key in HIDDEN_FIELDS or not isinstance(values, list) or len(values) != 2:
                continue
            before = None if event.action == "create" else readable_value(key, values[0])
            changes.append(
                Change(
                    FIELD_LABELS.get(key, key.replace("_", " ")),
                    before,
                    readable_value(key, values[1]),
                )
            )
    return HistoryEntry(
        event.timestamp, event.actor, title, changes, str(details.get("reason") or "")
    )


def record_names(patient, events=None) -> dict[tuple[str, str], str]:
    """How the history names each of the patient's records, removed ones included:
    {(object_type, object_id): "sertraline from 2 Jan 2026"}. Five queries; with `events`,
    only the records those events are about (not the whole, possibly long, history)."""
    wanted = None
    if events is not None:
        wanted = defaultdict(set)
        for event in events:
            wanted[event.object_type].add(str(event.object_id))

    def of(object_type, queryset):
        if wanted is None:
            return queryset
        ids = [int(pk) for pk in wanted[object_type] if pk.isdigit()]
        return queryset.filter(pk__in=ids) if ids else queryset.none()

    names = {}
    for trial in (
        of("trial", Trial.objects.filter(patient=patient))
        .select_related("drug")
        .only("pk", "start_date", "drug__name")
    ):
        names["trial", str(trial.pk)] = f"{trial.drug.name} from {readable_date(trial.start_date)}"
    for therapy in of("therapy", Therapy.objects.filter(patient=patient)).only(
        "pk", "kind", "start_date"
    ):
        names["therapy", str(therapy.pk)] = (
            f"{therapy.get_kind_display()} from {readable_date(therapy.start_date)}"
        )
    for discussion in of("discussion", Discussion.objects.filter(patient=patient)).only(
        "pk", "option_key", "date"
    ):
        names["discussion", str(discussion.pk)] = (
            f"{discussion.option_key.replace('_', ' ')} on {readable_date(discussion.date)}"
        )
    for episode in of("episode", patient.episodes.all()).only("pk", "onset"):
        names["episode", str(episode.pk)] = f"from {readable_date(episode.onset)}"
    for score in of("scalescore", ScaleScore.objects.filter(patient=patient)).only(
        "pk", "scale", "date"
    ):
        names["scalescore", str(score.pk)] = (
            f"{score.get_scale_display()} of {readable_date(score.date)}"
        )
    return names
