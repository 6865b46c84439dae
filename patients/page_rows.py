"""The rows of the patient page's long tables (trials, other medicines, scores), their display
values worked out once in Python, and the tables rendered and cached (`rendered_tables`).

A long history makes these tables hundreds of rows long, and per row the template spent most of
its time in filters (`date`, `default`), `get_..._display` calls and `{% url %}` tags (a reverse
is about 50 µs). The values here are what those produced, so the page reads the same.
"""

from dataclasses import dataclass
from datetime import date

from django.core.cache import cache
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.formats import localize
from django.utils.safestring import mark_safe

from treatments import definitions
from treatments.models import ScaleScore, Trial
from treatments.timeline import build_timeline


def labels(model, field: str) -> dict:
    """{stored value: label}, what get_<field>_display() looks up (without its cost per call)."""
    return dict(model._meta.get_field(field).flatchoices)


ADHERENCE = labels(Trial, "adherence")
OUTCOME = labels(Trial, "outcome")
SCALE = labels(ScaleScore, "scale")


def day(value: date | None, missing: str = "") -> str:
    """A date as the template's `date:"Y-m-d"` writes it (`missing` for none)."""
    return value.isoformat() if value is not None else missing


class Formatted(dict):
    """{value: text}, each distinct value formatted once: a long history repeats a few doses
    and durations many times."""

    def __init__(self, format):
        super().__init__()
        self.format = format

    def __missing__(self, value) -> str:
        self[value] = text = self.format(value)
        return text


def dose_texts() -> Formatted:
    """Doses as the template writes `value.normalize`: 100.000 → "100", 0.025 → "0.025"."""
    return Formatted(lambda value: localize(value.normalize()))


def urls_by_pk(name: str, patient_pk: int, pks) -> dict:
    """{pk: reverse(name, args=[patient_pk, pk])} for many records of one patient, reversing
    once and filling in each id (the record's id is the path's last number)."""
    pks = list(pks)
    if not pks:
        return {}
    head, _, tail = reverse(name, args=[patient_pk, 0]).rpartition("/0/")
    urls = {pk: f"{head}/{pk}/{tail}" for pk in pks}
    if urls[pks[0]] != reverse(name, args=[patient_pk, pks[0]]):  # a path of another shape
        return {pk: reverse(name, args=[patient_pk, pk]) for pk in pks}
    return urls


@dataclass(frozen=True)
class TrialRow:
    """An antidepressant trial in the trial table."""

    trial: object
    item: object  # its trd.TrialEvaluation, None when it starts after the as-of date
    measured: object  # measured.MeasuredOutcome or None
    disagrees: bool
    measurement: object  # measured.Measurement
    dates: str
    doses: str  # the doses in order, "50 → 100"
    dose_hint: str
    adherence: str
    outcome: str
    adequate_days: str
    offer_measured: bool  # ended, and measured otherwise than recorded
    edit_url: str
    delete_url: str
    use_measured_url: str


def trial_rows(history) -> list[TrialRow]:
    """The trial table of a treatments.selectors.PatientHistory, antidepressant trials only."""
    patient_pk = history.patient.pk
    rows = history.antidepressant_rows()
    pks = [trial.pk for trial, *_ in rows]
    edit = urls_by_pk("treatments:trial-edit", patient_pk, pks)
    delete = urls_by_pk("treatments:trial-delete", patient_pk, pks)
    use_measured = urls_by_pk("treatments:trial-use-measured", patient_pk, pks)
    dose, number = dose_texts(), Formatted(localize)
    hints = {}
    table = []
    for trial, item, measured, disagrees, measurement in rows:
        if item is not None:
            doses = " → ".join(dose[segment.dose_mg] for segment in item.segments)
            days = item.days_at_adequate_dose
            adequate_days = "—" if days is None else number[days]
        else:
            doses, adequate_days = dose[trial.dose_mg], "—"
        if trial.drug_id not in hints:
            hints[trial.drug_id] = trial.drug.dose_hint()
        table.append(
            TrialRow(
                trial=trial,
                item=item,
                measured=measured,
                disagrees=disagrees,
                measurement=measurement,
                dates=f"{day(trial.start_date)} → {day(trial.end_date, 'ongoing')}",
                doses=doses,
                dose_hint=hints[trial.drug_id],
                adherence=ADHERENCE.get(trial.adherence, trial.adherence),
                outcome=OUTCOME.get(trial.outcome, trial.outcome),
                adequate_days=adequate_days,
                offer_measured=bool(measured)
                and trial.has_ended
                and measured.outcome != trial.outcome,
                edit_url=edit[trial.pk],
                delete_url=delete[trial.pk],
                use_measured_url=use_measured[trial.pk],
            )
        )
    return table


@dataclass(frozen=True)
class MedicineRow:
    """An augmentation agent or other medicine."""

    medicine: object
    start: str
    end: str
    dose: str
    outcome: str
    edit_url: str
    delete_url: str


def medicine_rows(history) -> list[MedicineRow]:
    medicines = history.other_medicines()
    pks = [medicine.pk for medicine in medicines]
    edit = urls_by_pk("treatments:medicine-edit", history.patient.pk, pks)
    delete = urls_by_pk("treatments:trial-delete", history.patient.pk, pks)
    dose = dose_texts()
    return [
        MedicineRow(
            medicine=medicine,
            start=day(medicine.start_date),
            end=day(medicine.end_date, "ongoing"),
            dose=dose[medicine.dose_mg],
            outcome=OUTCOME.get(medicine.outcome, medicine.outcome),
            edit_url=edit[medicine.pk],
            delete_url=delete[medicine.pk],
        )
        for medicine in medicines
    ]


@dataclass(frozen=True)
class ScoreRow:
    """A rating-scale score."""

    score: object
    date: str
    scale: str
    band: str
    suicide_item: int | None
    edit_url: str
    delete_url: str


def score_rows(history) -> list[ScoreRow]:
    pks = [score.pk for score in history.scores]
    edit = urls_by_pk("treatments:score-edit", history.patient.pk, pks)
    delete = urls_by_pk("treatments:score-delete", history.patient.pk, pks)
    return [
        ScoreRow(
            score=score,
            date=day(score.date),
            scale=SCALE.get(score.scale, score.scale),
            band=score.band,
            suicide_item=score.suicide_item,
            edit_url=edit[score.pk],
            delete_url=delete[score.pk],
        )
        for score in history.scores
    ]


TABLES_TEMPLATE = "patients/_record_tables.html"
CACHE_SECONDS = 60 * 60
CACHE_PREFIX = "patient-tables:2"  # raise when the rows or the template change


def rendered_tables(history, *, can_edit: bool) -> str:
    """The trial, medicine and score tables of a treatments.selectors.PatientHistory as HTML,
    from the cache while nothing they show has changed (PatientHistory.cache_version) for
    someone with the same right to edit (the rows' Edit and Remove links)."""
    key = f"{CACHE_PREFIX}:{'edit' if can_edit else 'view'}:{history.cache_version()}"
    html = cache.get(key)
    if html is None:
        html = render_to_string(
            TABLES_TEMPLATE,
            {
                "trial_rows": trial_rows(history),
                "medicine_rows": medicine_rows(history),
                "score_rows": score_rows(history),
                "can_edit": can_edit,
                "rule_text": definitions.page_text(),
            },
        )
        cache.set(key, html, CACHE_SECONDS)
    return mark_safe(html)  # our own template's output, escaped as it was rendered


TIMELINE_TEMPLATE = "treatments/_timeline.html"
TIMELINE_CACHE_PREFIX = "patient-timeline:1"  # raise when the chart's geometry or template changes


def timeline_cache_key(history) -> str:
    """The chart's cache key: a new one whenever anything it is drawn from changes (see
    PatientHistory.cache_version)."""
    return f"{TIMELINE_CACHE_PREFIX}:{history.cache_version()}"


def rendered_timeline(history) -> str:
    """The patient page's timeline chart (treatments/_timeline.html) for a loaded
    PatientHistory, from the cache when nothing it is drawn from has changed."""
    key = timeline_cache_key(history)
    html = cache.get(key)
    if html is None:
        evaluation = history.evaluation
        html = render_to_string(
            TIMELINE_TEMPLATE,
            {
                "timeline": build_timeline(evaluation, history.therapies, history.scores),
                "evaluation": evaluation,
            },
        )
        cache.set(key, html, CACHE_SECONDS)
    return mark_safe(html)  # our own template's output, escaped as it was rendered
