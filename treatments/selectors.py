"""Reads: load a patient's records in a constant number of queries and evaluate them."""

import hashlib
from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import CharField, IntegerField, OuterRef, Prefetch, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils import timezone

from core.dates import today

from . import catalog, measured, options, scales, staging, trd, warnings, worklist
from .models import Discussion, DoseChange, Drug, ScaleScore, Therapy, Trial


def in_batches(rows, size: int):
    """Lists of up to `size` rows from an iterator (a server-side cursor, say)."""
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def active_trials(patient_ids):
    return (
        Trial.objects.active()
        .filter(patient_id__in=patient_ids)
        .select_related("drug")
        .prefetch_related(Prefetch("dose_changes", queryset=DoseChange.objects.order_by("date")))
        .order_by("start_date", "id")
    )


def history_trials(patient) -> list:
    """The patient's active trials as active_trials loads them, each with its dose changes
    (by date) as a plain list, `loaded_dose_changes`, rather than a prefetched queryset per
    trial, which costs a third more on a long history. Read them through `trial_facts`."""
    return list(
        Trial.objects.active()
        .filter(patient=patient)
        .select_related("drug")
        .prefetch_related(
            Prefetch(
                "dose_changes",
                queryset=DoseChange.objects.order_by("date"),
                to_attr="loaded_dose_changes",
            )
        )
        .order_by("start_date", "id")
    )


def trial_facts(trial) -> trd.TrialFacts:
    """The trial's facts, from the dose changes loaded with it (history_trials or
    active_trials): no query."""
    return trial.facts(getattr(trial, "loaded_dose_changes", None))


# --- The rule's facts of many trials read as plain rows (the exports, the stored summaries) --

# A trial's columns the TRD rule reads, in the order facts_from_values takes them.
FACT_COLUMNS = (
    "id",
    "drug_id",
    "formulation",
    "start_date",
    "end_date",
    "dose_mg",
    "adherence",
    "outcome",
)


class DrugFactsByForm(dict):
    """{(drug id, formulation): trd.DrugFacts} as Trial.drug_facts gives them, each worked out
    on first use. `drugs` maps a drug id to its facts; without it every drug is read (one
    query)."""

    def __init__(self, drugs: dict[int, trd.DrugFacts] | None = None):
        super().__init__()
        self.drugs = {d.pk: d.facts() for d in Drug.objects.all()} if drugs is None else drugs

    def __missing__(self, key) -> trd.DrugFacts:
        drug_id, formulation = key
        self[key] = facts = catalog.with_formulation(self.drugs[drug_id], formulation)
        return facts


def facts_from_values(
    values, dose_changes: tuple, drugs: DrugFactsByForm, parse=None
) -> trd.TrialFacts:
    """The facts of a trial read as FACT_COLUMNS, with its dose changes (trd.DoseChange, by
    date): what Trial.facts() gives for the same trial, with no model instance. `parse`, when
    given, turns the dates read as text into dates."""
    pk, drug_id, formulation, start, end, dose, adherence, outcome = values
    if parse is not None:
        start, end = parse(start), (parse(end) if end else None)
    return trd.TrialFacts(
        pk, drugs[drug_id, formulation], start, end, dose, dose_changes, adherence, outcome
    )


def iso_text(field: str) -> Cast:
    """A date column read as its ISO text ("YYYY-MM-DD"), as SQLite stores it and PostgreSQL
    writes it (DateStyle ISO, the default, which psycopg2's own date parsing expects too). The
    driver builds a date several times slower than date.fromisoformat; any other text fails
    date.fromisoformat rather than reaching the rule."""
    return Cast(field, CharField())


# FACT_COLUMNS with the dates as text, then one of the trial's dose changes (NULLs for none).
_STREAM_COLUMNS = (
    *FACT_COLUMNS[:3],
    iso_text("start_date"),
    iso_text("end_date"),
    *FACT_COLUMNS[5:],
)


def stream_trial_facts(trials, *columns, drugs: DrugFactsByForm | None = None, chunk_size: int):
    """(trd.TrialFacts, the values of `columns`) for each trial of `trials`, in its order.

    One streamed query of plain tuples (`.iterator(chunk_size)`, a server-side cursor on
    PostgreSQL): the trials LEFT JOINed to their dose changes, a trial's rows next to each
    other (its id is added to the order when the order does not end with it) and its changes
    in date order. Memory stays flat however many trials; no model instance is built.
    `columns` are anything values_list takes (field names, expressions)."""
    drugs = DrugFactsByForm() if drugs is None else drugs
    order = list(trials.query.order_by)
    if not order or order[-1] not in ("id", "pk"):
        order.append("id")
    rows = (
        trials.order_by(*order, "dose_changes__date", "dose_changes__id")
        .values_list(*_STREAM_COLUMNS, *columns, "dose_changes__date", "dose_changes__dose_mg")
        .iterator(chunk_size=chunk_size)
    )
    parse, change, extra = date.fromisoformat, trd.DoseChange, slice(8, 8 + len(columns))
    trial, changes = None, []
    for row in rows:
        if trial is None or row[0] != trial[0]:
            if trial is not None:
                yield facts_from_values(trial[:8], tuple(changes), drugs, parse), trial[extra]
            trial, changes = row, []
        if row[-2] is not None:
            changes.append(change(row[-2], row[-1]))
    if trial is not None:
        yield facts_from_values(trial[:8], tuple(changes), drugs, parse), trial[extra]


def active_therapies(patient):
    return Therapy.objects.active().filter(patient=patient).order_by("start_date", "id")


def active_scores(patient):
    return ScaleScore.objects.active().filter(patient=patient).order_by("date", "id")


def active_discussions(patient):
    return Discussion.objects.active().filter(patient=patient).order_by("date", "id")


def latest_by_option(discussions) -> dict:
    """{option key: its latest discussion} (by date, then by id: the later entry that day)."""
    latest = {}
    for discussion in sorted(discussions, key=lambda d: (d.date, d.pk or 0)):
        latest[discussion.option_key] = discussion
    return latest


def with_latest_phq9_item9(patients):
    """Annotate `latest_phq9_item9`: item 9 of each patient's latest PHQ-9, or None.

    One subquery, so a list stays at a constant number of queries. The JSON item is read
    as text and cast (a bare ``items__8`` in a subquery fails to decode on SQLite).
    """
    latest = (
        ScaleScore.objects.active()
        .filter(patient=OuterRef("pk"), scale=scales.PHQ9)
        .order_by("-date", "-id")
        .values(
            item9=Cast(KeyTextTransform(str(scales.PHQ9_SUICIDE_ITEM - 1), "items"), IntegerField())
        )[:1]
    )
    return patients.annotate(latest_phq9_item9=Subquery(latest, output_field=IntegerField()))


@dataclass(frozen=True)
class SuicideRisk:
    """Why the patient page shows the "discuss urgently" banner (None when it does not)."""

    flagged_by_clinician: bool
    phq9_item9: int | None
    phq9_date: date | None

    @property
    def from_phq9(self) -> bool:
        return scales.at_suicide_risk(False, self.phq9_item9)


def suicide_risk(patient, scores) -> SuicideRisk | None:
    """The clinician's flag, or item 9 above 0 in the latest PHQ-9 of `scores`."""
    phq9 = [score for score in scores if score.scale == scales.PHQ9]
    latest = max(phq9, key=lambda s: (s.date, s.pk or 0), default=None)
    item9 = latest.suicide_item if latest else None
    if not scales.at_suicide_risk(patient.suicide_risk_flag, item9):
        return None
    return SuicideRisk(
        flagged_by_clinician=patient.suicide_risk_flag,
        phq9_item9=item9,
        phq9_date=latest.date if latest else None,
    )


def measurements(trials, scores, as_of: date) -> dict:
    """{trial id: measured.Measurement} for `trials`: the outcome, or why there is none.

    A trial's measurement reads only the scores from its baseline window's first day to its
    last day, so each trial is given just those (found by bisection in the scores sorted by
    date, same-day scores in their given order): not every score for every trial."""
    by_date = sorted(scores, key=lambda score: score.date)
    days = [score.date for score in by_date]
    found = {}
    for trial in trials:
        last_day = min(trial.end_date, as_of) if trial.end_date else as_of
        first_day = trial.start_date - timedelta(days=measured.BASELINE_WINDOW_DAYS)
        read = by_date[bisect_left(days, first_day) : bisect_right(days, last_day)]
        found[trial.pk] = measured.measure(
            read, start=trial.start_date, end=trial.end_date, as_of=as_of
        )
    return found


def measured_outcomes(trials, scores, as_of: date) -> dict:
    """{trial id: MeasuredOutcome or None} for `trials`, from the patient's `scores`."""
    return {pk: found.outcome for pk, found in measurements(trials, scores, as_of).items()}


def evaluate_patient_trials(patient, trials, as_of: date | None = None) -> trd.TrdEvaluation:
    return trd.evaluate(
        [trial_facts(trial) for trial in trials],
        as_of=as_of or today(),
        episode_start=patient.episode_start,
    )


@dataclass(frozen=True)
class DiscussedOption:
    """An option as the patient page lists it: tried or not, and its latest discussion."""

    option: options.Option
    already_tried: bool
    last_discussion: Discussion | None


@dataclass(frozen=True)
class PatientHistory:
    """Everything the patient page shows, loaded once."""

    patient: object
    trials: list
    therapies: list
    evaluation: trd.TrdEvaluation
    options: list
    scores: list = field(default_factory=list)
    measured: dict = field(default_factory=dict)  # trial id -> MeasuredOutcome | None
    measurements: dict = field(default_factory=dict)  # trial id -> measured.Measurement
    suicide_risk: SuicideRisk | None = None
    episodes: list = field(default_factory=list)  # active, oldest first
    discussions: list = field(default_factory=list)  # active, oldest first

    def cache_version(self) -> str:
        """What the page's cached fragments (the timeline, the long tables) are drawn from, as
        part of a cache key: the patient (its version and episode start), the as-of date, and
        the id and version of every trial (with its drug's facts), therapy and score. Every
        write of a trial, its dose changes, a therapy or a score raises that record's version
        (treatments.services), and a removal drops it from the history, so any change gives
        a new key. Read from what is loaded: no query."""
        patient = self.patient
        drawn_from = repr(
            (
                patient.episode_start,
                [
                    (
                        t.pk,
                        t.version,
                        t.drug.name,
                        t.drug.drug_class,
                        t.drug.is_antidepressant,
                        t.drug.is_augmentation_agent,
                        t.drug.min_adequate_dose_mg,
                    )
                    for t in self.trials
                ],
                [(t.pk, t.version) for t in self.therapies],
                [(s.pk, s.version) for s in self.scores],
            )
        )
        digest = hashlib.sha256(drawn_from.encode()).hexdigest()
        return f"{patient.pk}:{patient.version}:{self.evaluation.as_of.isoformat()}:{digest}"

    def last_discussions(self) -> dict:
        """{option key: the latest discussion of that option} for the page, API and sheet."""
        return latest_by_option(self.discussions)

    def discussed_options(self) -> list["DiscussedOption"]:
        """The options in discussion order, each with its latest discussion (or None)."""
        latest = self.last_discussions()
        return [
            DiscussedOption(item.option, item.already_tried, latest.get(item.option.key))
            for item in self.options
        ]

    def trial_evaluations(self):
        by_id = {e.trial.id: e for e in self.evaluation.trials}
        return [(trial, by_id.get(trial.pk)) for trial in self.trials]

    def trial_rows(self):
        """(trial, evaluation, measured outcome, disagrees) for the trial table."""
        rows = []
        for trial, item in self.trial_evaluations():
            outcome = self.measured.get(trial.pk)
            rows.append((trial, item, outcome, measured.disagrees(trial.outcome, outcome)))
        return rows

    def antidepressant_rows(self):
        """The trial table's rows, antidepressant trials only: trial_rows' four items and the
        measured.Measurement (which says "too early" apart from "no scores")."""
        return [
            (*row, self.measurements.get(row[0].pk))
            for row in self.trial_rows()
            if row[0].drug.is_antidepressant
        ]

    def other_medicines(self):
        """Augmentation agents and other medicines (interaction partners such as the pill,
        valproate or rifampin): recorded beside the trials, never weighed as trials."""
        return [trial for trial in self.trials if not trial.drug.is_antidepressant]

    def episode_groups(self):
        """[(episode, its trials, is current)], newest first: a trial belongs to the episode
        during which it started (current = the latest open one)."""
        current = max(
            (e for e in self.episodes if e.ended is None),
            key=lambda e: (e.onset, e.pk),
            default=None,
        )
        groups = []
        for episode in sorted(self.episodes, key=lambda e: (e.onset, e.pk), reverse=True):
            end = episode.ended or date.max
            inside = [t for t in self.trials if episode.onset <= t.start_date <= end]
            groups.append((episode, inside, episode is current))
        return groups

    def trials_not_counting(self):
        """The antidepressant trials that do not count toward TRD, with their reasons."""
        return [
            item
            for item in self.evaluation.trials
            if item.trial.drug.is_antidepressant and not item.counts_toward_trd
        ]


def patient_history(patient, as_of: date | None = None) -> PatientHistory:
    trials = history_trials(patient)
    therapies = list(active_therapies(patient))
    scores = list(active_scores(patient))
    episodes = list(patient.episodes.active())
    discussions = list(active_discussions(patient))
    evaluation = evaluate_patient_trials(patient, trials, as_of)
    found = measurements(trials, scores, evaluation.as_of)
    return PatientHistory(
        patient=patient,
        trials=trials,
        therapies=therapies,
        evaluation=evaluation,
        options=patient_options(trials, therapies),
        scores=scores,
        measured={pk: measurement.outcome for pk, measurement in found.items()},
        measurements=found,
        suicide_risk=suicide_risk(patient, scores),
        episodes=episodes,
        discussions=discussions,
    )


def patient_options(trials, therapies) -> list[options.PatientOption]:
    """Every option, the ones not yet tried first (see options.in_discussion_order)."""
    return options.in_discussion_order(
        options.options_for_patient(
            therapy_kinds={therapy.kind for therapy in therapies},
            drug_names={trial.drug.name for trial in trials},
            drug_classes={trial.drug.drug_class for trial in trials},
        )
    )


def patient_warnings_and_staging(
    history: PatientHistory,
) -> tuple[list[warnings.HistoryWarning], staging.Staging]:
    """Warnings and staging derived from the loaded history: no query, never stored."""
    patient = history.patient
    evaluation = history.evaluation
    found = warnings.history_warnings(
        [item.trial for item in evaluation.trials],
        as_of=evaluation.as_of,
        max_dose_mg={trial.drug.name: trial.drug.max_dose_mg for trial in history.trials},
        max_dose_sources={trial.drug.name: trial.drug.max_dose_source for trial in history.trials},
    )
    stages = staging.stage(
        evaluation,
        episode_start=patient.episode_start,
        baseline_severity=patient.baseline_severity,
        scores=[staging.ScoreFacts(s.scale, s.date, s.total) for s in history.scores],
        therapies=[
            staging.TherapyFacts(
                t.kind,
                t.start_date,
                t.detail,
                t.outcome,
                ect_placement=getattr(t, "ect_placement", "") or "",
                ect_sessions=getattr(t, "ect_sessions", None),
            )
            for t in history.therapies
        ],
        psychotic_features=bool(getattr(patient, "psychotic_features", False)),
    )
    return found, stages


def clinician_worklist(patients, as_of: date | None = None) -> worklist.Worklist:
    """The home page's worklist for `patients` (from patients.scope.patients_visible_to),
    loaded in four queries whatever their number: the patients, their scores, their trials
    with the drugs, the trials' dose changes. The rules are treatments.worklist's."""
    as_of = as_of or today()
    by_id = {patient.pk: patient for patient in patients}
    ids = patients.values("pk")  # a subquery, not a long list of parameters
    scores = defaultdict(list)
    for score in ScaleScore.objects.active().filter(patient_id__in=ids).order_by("date", "id"):
        scores[score.patient_id].append(score)
    trials = defaultdict(list)
    for trial in active_trials(ids):
        if trial.patient_id in by_id:  # not a patient added since the first query
            trial.patient = by_id[trial.patient_id]
            trials[trial.patient_id].append(trial)

    risk, reviews, disagreements, unscored = [], [], [], []
    for patient in by_id.values():
        patient_scores = scores[patient.pk]
        found = suicide_risk(patient, patient_scores)
        if found is not None:
            facts = {
                "flagged_by_clinician": found.flagged_by_clinician,
                "phq9_item9": found.phq9_item9,
                "phq9_date": found.phq9_date,
            }
            risk.append(
                worklist.Row(
                    patient,
                    worklist.risk_reason(**facts),
                    on=worklist.risk_date(
                        **facts, record_changed=timezone.localdate(patient.updated_at)
                    ),
                )
            )
        patient_trials = trials[patient.pk]
        outcomes = measured_outcomes(patient_trials, patient_scores, as_of)
        last_score = patient_scores[-1].date if patient_scores else None
        for trial in patient_trials:
            outcome = outcomes[trial.pk]
            if measured.disagrees(trial.outcome, outcome):
                disagreements.append(
                    worklist.Row(
                        patient,
                        worklist.disagreement_reason(
                            trial.get_outcome_display(), outcome.label, outcome.short
                        ),
                        on=outcome.end.date,
                        trials=(trial,),
                    )
                )
        # Reviews and score gaps are about antidepressant trials, not the other medicines.
        ongoing = [
            trial
            for trial in patient_trials
            if trial.end_date is None and trial.drug.is_antidepressant
        ]
        for trial in ongoing:
            due = worklist.review_due(trial.facts(), today=as_of)
            if due is not None:
                reviews.append(worklist.Row(patient, due.reason, on=due.on, trials=(trial,)))
        if ongoing and worklist.score_overdue(last_score, today=as_of):
            unscored.append(
                worklist.Row(
                    patient,
                    worklist.no_score_reason(last_score, today=as_of),
                    on=last_score,
                    trials=tuple(ongoing),
                )
            )
    return worklist.Worklist(
        as_of=as_of,
        suicide_risk=worklist.newest_first(risk),
        reviews_due=worklist.oldest_first(reviews),
        disagreements=worklist.newest_first(disagreements),
        no_recent_score=worklist.oldest_first(unscored),
    )


# --- the drug catalog's rows, found by what a user typed (treatments.catalog searches) ---


def resolve_drug(text: str):
    """The catalog drug named exactly by a generic or brand name, case-insensitively, or None:
    the first exact match of `search_drugs`. A combination brand names several drugs, so it
    resolves to none here (see `resolve_components`); the search itself is treatments.catalog's."""
    if not catalog.normalise(text):
        return None
    matches = [m for m in catalog.search_drugs(text, Drug.objects.all()) if not m.by_combination]
    if matches and matches[0].rank == catalog.EXACT:
        return matches[0].drug
    return None


def resolve_components(text: str) -> list:
    """The catalog drugs of the combination brand named by `text`, in the brand's order;
    empty when `text` names no combination brand."""
    combination = catalog.find_combination(text)
    if combination is None:
        return []
    drugs = {drug.name: drug for drug in Drug.objects.filter(name__in=combination.components)}
    return [drugs[name] for name in combination.components if name in drugs]
