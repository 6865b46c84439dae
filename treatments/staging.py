"""Staging of treatment resistance: Maudsley Staging Method and Thase–Rush. Pure Python.

Both follow the clinical reference (shared/reference/README.md, sections 4a and 4b) and
take their failed trials from the TRD rule (treatments/trd.py): a failed antidepressant
is a drug with a trial that counts toward TRD. Nothing dated after the as-of date counts.

Maudsley Staging Method (MSM), total 3–15: Fekadu et al. 2009 (Fekadu A, Wooderson S,
Donaldson C et al., "A multidimensional tool to quantify treatment resistance in
depression: the Maudsley staging method", J Clin Psychiatry 2009;70:177–184); the table
as reproduced by Fekadu, Donocik & Cleare, BMC Psychiatry 2018;18:100, Table 3.

- Not staged (``Staging.maudsley`` is None) while no trial counts toward TRD: the method
  grades resistance, and there is none to grade yet.
- Duration of the current episode, from its onset to the as-of date in calendar months
  (the n-th month after 15 January ends on the 15th; after 31 January, on 1 March when
  February is shorter): 1 point up to and including 12 months after onset, 2 up to and
  including 24 months, 3 beyond (24 months and 30 days scores 3).
- Severity at baseline: the clinician's entry (``Patient.baseline_severity``); without
  one, from the scores dated in the episode (on or after onset, up to the as-of date):
  the most severe one in the first 4 weeks (onset to 27 days later) when there is one,
  else the first score of the episode; through ``scales.MSM_SEVERITY_FROM_BAND``. The
  note names the score and its date. Psychotic features recorded for the episode
  (``Patient.psychotic_features``) put it in the "severe with psychosis" category.
  Without an entry, a score or psychotic features it is ``assumed`` (lowest category).
- Failed antidepressants: the number of distinct drugs whose trials count toward TRD
  (the same count as the TRD rule): 1–2 → 1, 3–4 → 2, 5–6 → 3, 7–10 → 4, >10 → 5.
- Augmentation: 1 when an augmentation agent (``DrugFacts.is_augmentation_agent``, as
  the catalog marks it) was taken for at least 14 days inside the current episode: days
  ``[max(start, onset), min(end, as-of))``, counted as the TRD rule counts days.
- ECT: 1 when an ECT course started inside the current episode (on or after the onset,
  on or before the as-of date).

Without an episode onset every recorded trial and therapy is considered (as the TRD
rule does) and the duration is ``assumed``: the total is then a lower bound.
Bands: mild 3–6, moderate 7–10, severe 11–15.

Thase–Rush (stages 0–V; Thase & Rush 1997, as summarised in the reference, section 4b),
from the classes of the failed drugs (:func:`thase_rush_class`): SSRI, SNRI, TCA (the
tetracyclics with them: the SPS guide groups them as "tricyclic or related"), MAOI (the
irreversible MAOIs only) and every other mechanism as a class of its own (NDRI, NaSSA,
SARI, serotonin modulator, NRI, melatonergic, RIMA ...): bupropion then mirtazapine is
two different classes, stage II. Stages are cumulative: the TCA of stage III and the
MAOI of stage IV come on top of the two classes of stage II. Stage V needs a failed
(no or partial response) course of bilateral ECT in the current episode, read from the
structured electrode placement (``Therapy.ect_placement`` bitemporal or bifrontal);
right unilateral or unknown placement is not enough. Known limitation, as in the
source: augmentation is ignored.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from . import scales
from .trd import COUNTING_OUTCOMES, TrdEvaluation, TrialFacts

MSM_CITATION = (
    "Fekadu et al. 2009 (J Clin Psychiatry 70:177–184), Maudsley Staging Method; table as "
    "in Fekadu, Donocik & Cleare, BMC Psychiatry 2018 (Table 3)"
)
THASE_RUSH_CITATION = "Thase & Rush 1997"

# ----------------------------------------------------------------------------------------
# Thase–Rush
# ----------------------------------------------------------------------------------------

SSRI = "SSRI"
SNRI = "SNRI"
TCA = "TCA"
MAOI = "MAOI"
THASE_RUSH_MAJOR_CLASSES = (SSRI, SNRI, TCA, MAOI)
CATALOG_TO_THASE_RUSH = {"Tetracyclic": TCA}
STAGE_NAMES = ("0", "I", "II", "III", "IV", "V")
ECT = "ect"
BILATERAL_PLACEMENTS = frozenset({"bitemporal", "bifrontal"})


def thase_rush_class(drug_class: str) -> str:
    """The Thase–Rush class of a catalog class: SSRI, SNRI, TCA (with the tetracyclics),
    MAOI (irreversible only), or the catalog class itself for every other mechanism."""
    cleaned = (drug_class or "").strip()
    return CATALOG_TO_THASE_RUSH.get(cleaned, cleaned)


def thase_rush_stage_number(
    failed_classes: Iterable[str], *, failed_bilateral_ect: bool = False
) -> int:
    """The stage 0–5 from the catalog classes of the drugs whose trials count toward TRD."""
    classes = {thase_rush_class(c) for c in failed_classes if c and c.strip()}
    if not classes:
        return 0
    if len(classes) < 2:
        return 1
    if TCA not in classes or len(classes - {TCA}) < 2:
        return 2
    if MAOI not in classes or len(classes - {TCA, MAOI}) < 2:
        return 3
    return 5 if failed_bilateral_ect else 4


def thase_rush_stage(failed_classes: Iterable[str], *, failed_bilateral_ect: bool = False) -> str:
    """The stage as a name, "0" to "V" (used by the TRD register export)."""
    number = thase_rush_stage_number(failed_classes, failed_bilateral_ect=failed_bilateral_ect)
    return STAGE_NAMES[number]


def is_failed_bilateral_ect(kind: str, placement: str, outcome: str) -> bool:
    """A failed (no or partial response) ECT course with a bitemporal or bifrontal
    electrode placement. ``placement`` is the structured ``Therapy.ect_placement``, never
    free text."""
    return kind == ECT and outcome in COUNTING_OUTCOMES and placement in BILATERAL_PLACEMENTS


def _class_order(name: str) -> tuple[int, str]:
    if name in THASE_RUSH_MAJOR_CLASSES:
        return (THASE_RUSH_MAJOR_CLASSES.index(name), name)
    return (len(THASE_RUSH_MAJOR_CLASSES), name.casefold())


# ----------------------------------------------------------------------------------------
# Maudsley Staging Method
# ----------------------------------------------------------------------------------------

SEVERITY_POINTS = {
    "subsyndromal": 1,
    "mild": 2,
    "moderate": 3,
    "severe": 4,
    "severe_psychotic": 5,
}
SEVERITY_LABELS = {
    "subsyndromal": "subsyndromal",
    "mild": "mild",
    "moderate": "moderate",
    "severe": "severe without psychosis",
    "severe_psychotic": "severe with psychosis",
}
PSYCHOTIC = "severe_psychotic"
EARLY_SCORE_DAYS = 28  # the episode's first 4 weeks
AUGMENTATION_MIN_DAYS = 14
ACUTE_MONTHS = 12
SUBACUTE_MONTHS = 24
MSM_BANDS = (("mild", 3, 6), ("moderate", 7, 10), ("severe", 11, 15))
NOT_STAGED = "not staged: no trial counts toward TRD yet"


@dataclass(frozen=True)
class TherapyFacts:
    kind: str
    start_date: date
    detail: str = ""
    outcome: str = "unknown"
    ect_placement: str = ""  # right_unilateral | bitemporal | bifrontal | unknown | ""
    ect_sessions: int | None = None


@dataclass(frozen=True)
class ScoreFacts:
    scale: str  # scales.PHQ9, HAMD17, MADRS
    date: date
    total: int


@dataclass(frozen=True)
class MsmInput:
    value: object  # months, a severity key, a count or a yes/no
    category: str
    points: int
    assumed: bool = False
    note: str = ""


@dataclass(frozen=True)
class MaudsleyScore:
    score: int
    band: str
    inputs: dict[str, MsmInput]

    @property
    def lower_bound(self) -> bool:
        return any(item.assumed for item in self.inputs.values())


@dataclass(frozen=True)
class Staging:
    maudsley: MaudsleyScore | None  # None: no trial counts toward TRD (not staged)
    thase_rush_stage: int
    failed_classes: tuple[str, ...]  # Thase–Rush classes of the failed drugs, in model order
    failed_bilateral_ect: bool
    stage_name: str = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "stage_name", STAGE_NAMES[self.thase_rush_stage])

    @property
    def maudsley_note(self) -> str:
        return NOT_STAGED if self.maudsley is None else ""


def months_after(start: date, months: int) -> date:
    """The day the ``months``-th calendar month after ``start`` is complete: the same day of
    the month, or the first day of the next month when that month is shorter."""
    year, month = divmod(start.month - 1 + months, 12)
    year += start.year
    month += 1
    last = calendar.monthrange(year, month)[1]
    if start.day <= last:
        return date(year, month, start.day)
    return date(year, month, last) + timedelta(days=1)


def completed_months(start: date, end: date) -> int:
    """Completed calendar months from ``start`` to ``end`` (0 when ``end`` is earlier)."""
    if end <= start:
        return 0
    months = (end.year - start.year) * 12 + end.month - start.month
    while months > 0 and months_after(start, months) > end:
        months -= 1
    return months


def msm_band(score: int) -> str:
    for name, low, high in MSM_BANDS:
        if low <= score <= high:
            return name
    raise ValueError(f"{score} is outside the MSM range 3–15")


def _months_and_days(start: date, end: date) -> str:
    months = completed_months(start, end)
    days = (end - months_after(start, months)).days if end > start else 0
    text = f"{months} month{'s' if months != 1 else ''}"
    return f"{text} and {days} day{'s' if days != 1 else ''}" if days else text


def _duration(episode_start: date | None, as_of: date) -> MsmInput:
    if episode_start is None:
        return MsmInput(
            None,
            "acute (≤12 months)",
            1,
            assumed=True,
            note="episode onset unknown: lowest category assumed",
        )
    months = completed_months(episode_start, as_of)
    note = f"onset {episode_start.isoformat()}: {_months_and_days(episode_start, as_of)}"
    if as_of <= months_after(episode_start, ACUTE_MONTHS):
        return MsmInput(months, "acute (≤12 months)", 1, note=note)
    if as_of <= months_after(episode_start, SUBACUTE_MONTHS):
        return MsmInput(months, "sub-acute (13–24 months)", 2, note=note)
    return MsmInput(months, "chronic (>24 months)", 3, note=note)


def _score_severity(score: ScoreFacts) -> str:
    return scales.MSM_SEVERITY_FROM_BAND[scales.band(score.scale, score.total)]


def _describe(score: ScoreFacts) -> str:
    return (
        f"{scales.SCALES[score.scale].name} {score.total} on {score.date.isoformat()} "
        f"({scales.band(score.scale, score.total)})"
    )


def _severity_from_scores(
    episode_start: date | None, scores: Iterable[ScoreFacts], as_of: date
) -> tuple[str, str] | None:
    """(severity key, note) from the episode's scores, or None without one."""
    if episode_start is None:
        return None
    in_episode = sorted(
        (s for s in scores if episode_start <= s.date <= as_of), key=lambda s: s.date
    )
    if not in_episode:
        return None
    window_end = episode_start + timedelta(days=EARLY_SCORE_DAYS - 1)
    early = [s for s in in_episode if s.date <= window_end]
    if early:
        worst = max(early, key=lambda s: (SEVERITY_POINTS[_score_severity(s)], s.date))
        return _score_severity(worst), (
            f"from {_describe(worst)}, the most severe score in the episode's first 4 weeks"
        )
    first = in_episode[0]
    days = (first.date - episode_start).days
    return _score_severity(first), (
        f"from {_describe(first)}, the first score in the episode ({days} days after onset; "
        "none in its first 4 weeks)"
    )


def _severity(
    baseline_severity: str,
    episode_start: date | None,
    scores: Iterable[ScoreFacts],
    as_of: date,
    psychotic_features: bool = False,
) -> MsmInput:
    if baseline_severity:
        key, note = baseline_severity, "clinician's entry"
    else:
        found = _severity_from_scores(episode_start, scores, as_of)
        key, note = found if found is not None else (None, "")
    if psychotic_features and key != PSYCHOTIC:
        before = f" (otherwise {SEVERITY_LABELS[key]}: {note})" if key else ""
        return MsmInput(
            PSYCHOTIC,
            SEVERITY_LABELS[PSYCHOTIC],
            SEVERITY_POINTS[PSYCHOTIC],
            note=f"psychotic features recorded for the episode{before}",
        )
    if key is None:
        return MsmInput(
            None,
            "subsyndromal",
            1,
            assumed=True,
            note="no severity entered and no score in the episode: lowest category assumed",
        )
    return MsmInput(key, SEVERITY_LABELS[key], SEVERITY_POINTS[key], note=note)


def _failures(count: int, drugs: tuple[str, ...]) -> MsmInput:
    note = ", ".join(drugs)
    if count <= 2:
        return MsmInput(count, "1–2 medications", 1, note=note)
    if count <= 4:
        return MsmInput(count, "3–4 medications", 2, note=note)
    if count <= 6:
        return MsmInput(count, "5–6 medications", 3, note=note)
    if count <= 10:
        return MsmInput(count, "7–10 medications", 4, note=note)
    return MsmInput(count, ">10 medications", 5, note=note)


def _used(flag: bool, note: str = "") -> MsmInput:
    return MsmInput(flag, "used" if flag else "not used", 1 if flag else 0, note=note)


def maudsley(
    *,
    as_of: date,
    episode_start: date | None,
    baseline_severity: str = "",
    scores: Iterable[ScoreFacts] = (),
    failed_antidepressants: int,
    augmentation_used: bool,
    ect_used: bool,
    failed_drugs: tuple[str, ...] = (),
    psychotic_features: bool = False,
    augmentation_note: str = "",
    ect_note: str = "",
) -> MaudsleyScore:
    inputs = {
        "duration": _duration(episode_start, as_of),
        "severity": _severity(baseline_severity, episode_start, scores, as_of, psychotic_features),
        "failed_antidepressants": _failures(failed_antidepressants, failed_drugs),
        "augmentation": _used(augmentation_used, augmentation_note),
        "ect": _used(ect_used, ect_note),
    }
    score = sum(item.points for item in inputs.values())
    return MaudsleyScore(score=score, band=msm_band(score), inputs=inputs)


def augmentation_days(trial: TrialFacts, *, as_of: date, episode_start: date | None) -> int:
    """Days ``[max(start, onset), min(end, as-of))`` of an augmentation agent's trial."""
    first = trial.start_date if episode_start is None else max(trial.start_date, episode_start)
    last = min(trial.end_date or as_of, as_of)
    return max((last - first).days, 0)


def _in_episode(day: date, episode_start: date | None, as_of: date) -> bool:
    return (episode_start is None or day >= episode_start) and day <= as_of


def stage(
    evaluation: TrdEvaluation,
    *,
    episode_start: date | None,
    baseline_severity: str = "",
    scores: Iterable[ScoreFacts] = (),
    therapies: Iterable[TherapyFacts] = (),
    psychotic_features: bool = False,
) -> Staging:
    """Both stagings of a patient from the TRD evaluation and the rest of the record."""
    as_of = evaluation.as_of
    episode_therapies = [t for t in therapies if _in_episode(t.start_date, episode_start, as_of)]
    augmenting = {}
    for ev in evaluation.trials:
        if ev.trial.drug.is_augmentation_agent and ev.trial.start_date <= as_of:
            days = augmentation_days(ev.trial, as_of=as_of, episode_start=episode_start)
            name = ev.trial.drug.name
            if days:
                augmenting[name] = max(augmenting.get(name, 0), days)
    augmented = {n: d for n, d in augmenting.items() if d >= AUGMENTATION_MIN_DAYS}
    failed_classes = {
        thase_rush_class(ev.trial.drug.drug_class)
        for ev in evaluation.trials
        if ev.counts_toward_trd and ev.trial.drug.drug_class.strip()
    }
    bilateral = any(
        is_failed_bilateral_ect(t.kind, t.ect_placement, t.outcome) for t in episode_therapies
    )
    ect = [t for t in episode_therapies if t.kind == ECT]
    msm = None
    if evaluation.failed_adequate_trial_count:
        msm = maudsley(
            as_of=as_of,
            episode_start=episode_start,
            baseline_severity=baseline_severity,
            scores=scores,
            failed_antidepressants=evaluation.failed_adequate_trial_count,
            failed_drugs=evaluation.counting_drugs,
            augmentation_used=bool(augmented),
            augmentation_note=_augmentation_note(augmented, augmenting),
            ect_used=bool(ect),
            ect_note=(f"course from {min(t.start_date for t in ect).isoformat()}" if ect else ""),
            psychotic_features=psychotic_features,
        )
    return Staging(
        maudsley=msm,
        thase_rush_stage=thase_rush_stage_number(failed_classes, failed_bilateral_ect=bilateral),
        failed_classes=tuple(sorted(failed_classes, key=_class_order)),
        failed_bilateral_ect=bilateral,
    )


def _augmentation_note(augmented: dict[str, int], considered: dict[str, int]) -> str:
    if augmented:
        return ", ".join(f"{name} ({days} days)" for name, days in sorted(augmented.items()))
    if considered:
        return (
            ", ".join(f"{name} ({days} days)" for name, days in sorted(considered.items()))
            + f" in the episode: under the {AUGMENTATION_MIN_DAYS} days needed"
        )
    return ""
