"""Staging of treatment resistance: Maudsley Staging Method and Thase–Rush. Pure Python.

Both follow the clinical reference (shared/reference/README.md, sections 4a and 4b) and
take their failed trials from the TRD rule (treatments/trd.py): a failed antidepressant
is a drug with a trial that counts toward TRD.

Maudsley Staging Method (MSM), total 3–15 (Fekadu et al., BMC Psychiatry 2018, Table 3):

- Duration of the current episode, from the patient's episode start to the as-of date in
  completed calendar months (a month is completed on the same day of the next month, or
  on the first day after it when that month is shorter): ≤12 → 1, 13–24 → 2, >24 → 3.
- Severity at baseline: the clinician's entry (``Patient.baseline_severity``); without
  one, the most severe band among the scores dated in the episode's first 4 weeks
  (episode start to 27 days later), through ``scales.MSM_SEVERITY_FROM_BAND``:
  subsyndromal 1, mild 2, moderate 3, severe 4, severe with psychosis 5 (no score band
  reaches 5: psychosis is the clinician's call).
- Failed antidepressants: the number of distinct drugs whose trials count toward TRD
  (the same count as the TRD rule): 1–2 → 1, 3–4 → 2, 5–6 → 3, 7–10 → 4, >10 → 5.
  The table starts at 1–2; 0 failures also score 1, and the input says so.
- Augmentation: 1 when any trial of an augmentation agent (lithium, an antipsychotic,
  liothyronine…) ran in the current episode (ended on or after its start).
- ECT: 1 when any ECT course is recorded (started on or before the as-of date).

An input that is unknown (no episode start; no severity entry and no early score) takes
its lowest category and is marked ``assumed``: the total is then a lower bound.
Bands: mild 3–6, moderate 7–10, severe 11–15.

Thase–Rush (stages 0–V), from the classes of the failed drugs mapped to the five classes
the model considers (:func:`thase_rush_class`): SSRI, SNRI, TCA, MAOI (irreversible MAOIs
and the RIMA moclobemide: both inhibit monoamine oxidase) and other. The tetracyclic
maprotiline counts as a TCA: the model's TCA step is about the older heterocyclic
antidepressants, and the SPS guide groups tetracyclics with them ("tricyclic or related").
Stages are cumulative: the TCA of stage III and the MAOI of stage IV come on top of the
two classes of stage II. Stage V needs a failed course of bilateral ECT: an ECT therapy
with no or partial response whose detail mentions "bilateral".
Known limitation, as in the source: augmentation is ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from . import scales
from .trd import COUNTING_OUTCOMES, TrdEvaluation

# ----------------------------------------------------------------------------------------
# Thase–Rush
# ----------------------------------------------------------------------------------------

SSRI = "SSRI"
SNRI = "SNRI"
TCA = "TCA"
MAOI = "MAOI"
OTHER = "other"
THASE_RUSH_CLASSES = (SSRI, SNRI, TCA, MAOI, OTHER)
CATALOG_TO_THASE_RUSH = {
    "SSRI": SSRI,
    "SNRI": SNRI,
    "TCA": TCA,
    "Tetracyclic": TCA,
    "MAOI": MAOI,
    "RIMA": MAOI,
}
STAGE_NAMES = ("0", "I", "II", "III", "IV", "V")
ECT = "ect"


def thase_rush_class(drug_class: str) -> str:
    """One of SSRI, SNRI, TCA, MAOI or "other" for a catalog class (or a class name)."""
    cleaned = drug_class.strip()
    if cleaned in THASE_RUSH_CLASSES:
        return cleaned
    return CATALOG_TO_THASE_RUSH.get(cleaned, OTHER)


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


def is_failed_bilateral_ect(kind: str, detail: str, outcome: str) -> bool:
    return kind == ECT and outcome in COUNTING_OUTCOMES and "bilateral" in (detail or "").lower()


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
EARLY_SCORE_DAYS = 28  # the episode's first 4 weeks
MSM_BANDS = (("mild", 3, 6), ("moderate", 7, 10), ("severe", 11, 15))


@dataclass(frozen=True)
class TherapyFacts:
    kind: str
    start_date: date
    detail: str = ""
    outcome: str = "unknown"


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
    maudsley: MaudsleyScore
    thase_rush_stage: int
    failed_classes: tuple[str, ...]  # Thase–Rush classes of the failed drugs, in model order
    failed_bilateral_ect: bool
    stage_name: str = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "stage_name", STAGE_NAMES[self.thase_rush_stage])


def completed_months(start: date, end: date) -> int:
    """Completed calendar months from ``start`` to ``end`` (0 when ``end`` is earlier)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        months -= 1
    return max(months, 0)


def msm_band(score: int) -> str:
    for name, low, high in MSM_BANDS:
        if low <= score <= high:
            return name
    raise ValueError(f"{score} is outside the MSM range 3–15")


def _duration(episode_start: date | None, as_of: date) -> MsmInput:
    if episode_start is None:
        return MsmInput(None, "acute (≤12 months)", 1, assumed=True,
                        note="episode start unknown: lowest category assumed")
    months = completed_months(episode_start, as_of)
    if months <= 12:
        return MsmInput(months, "acute (≤12 months)", 1)
    if months <= 24:
        return MsmInput(months, "sub-acute (13–24 months)", 2)
    return MsmInput(months, "chronic (>24 months)", 3)


def _severity(
    baseline_severity: str, episode_start: date | None, scores: Iterable[ScoreFacts], as_of: date
) -> MsmInput:
    if baseline_severity:
        return MsmInput(baseline_severity, SEVERITY_LABELS[baseline_severity],
                        SEVERITY_POINTS[baseline_severity], note="clinician's entry")
    if episode_start is not None:
        window_end = min(episode_start + timedelta(days=EARLY_SCORE_DAYS - 1), as_of)
        early = [s for s in scores if episode_start <= s.date <= window_end]
        if early:
            graded = [
                (SEVERITY_POINTS[scales.MSM_SEVERITY_FROM_BAND[scales.band(s.scale, s.total)]], s)
                for s in early
            ]
            points, worst = max(graded, key=lambda item: (item[0], item[1].date))
            key = scales.MSM_SEVERITY_FROM_BAND[scales.band(worst.scale, worst.total)]
            scale_name = scales.SCALES[worst.scale].name
            return MsmInput(
                key, SEVERITY_LABELS[key], points,
                note=(f"from {scale_name} {worst.total} on {worst.date.isoformat()} "
                      f"({scales.band(worst.scale, worst.total)}), the most severe score "
                      "in the episode's first 4 weeks"),
            )
    return MsmInput(None, "subsyndromal", 1, assumed=True,
                    note="no severity entered and no score in the episode's first 4 weeks: "
                         "lowest category assumed")


def _failures(count: int, drugs: tuple[str, ...]) -> MsmInput:
    if count == 0:
        note = "no failed antidepressant: the table starts at 1–2, scored 1"
    else:
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


def _used(flag: bool) -> MsmInput:
    return MsmInput(flag, "used" if flag else "not used", 1 if flag else 0)


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
) -> MaudsleyScore:
    inputs = {
        "duration": _duration(episode_start, as_of),
        "severity": _severity(baseline_severity, episode_start, scores, as_of),
        "failed_antidepressants": _failures(failed_antidepressants, failed_drugs),
        "augmentation": _used(augmentation_used),
        "ect": _used(ect_used),
    }
    score = sum(item.points for item in inputs.values())
    return MaudsleyScore(score=score, band=msm_band(score), inputs=inputs)


def stage(
    evaluation: TrdEvaluation,
    *,
    episode_start: date | None,
    baseline_severity: str = "",
    scores: Iterable[ScoreFacts] = (),
    therapies: Iterable[TherapyFacts] = (),
) -> Staging:
    """Both stagings of a patient from the TRD evaluation and the rest of the record."""
    as_of = evaluation.as_of
    therapies = [t for t in therapies if t.start_date <= as_of]
    augmentation = any(
        ev.trial.drug.is_augmentation_agent
        and (episode_start is None or ev.end >= episode_start)
        for ev in evaluation.trials
    )
    failed_classes = {
        thase_rush_class(ev.trial.drug.drug_class)
        for ev in evaluation.trials
        if ev.counts_toward_trd
    }
    bilateral = any(is_failed_bilateral_ect(t.kind, t.detail, t.outcome) for t in therapies)
    return Staging(
        maudsley=maudsley(
            as_of=as_of,
            episode_start=episode_start,
            baseline_severity=baseline_severity,
            scores=scores,
            failed_antidepressants=evaluation.failed_adequate_trial_count,
            failed_drugs=evaluation.counting_drugs,
            augmentation_used=augmentation,
            ect_used=any(t.kind == ECT for t in therapies),
        ),
        thase_rush_stage=thase_rush_stage_number(failed_classes, failed_bilateral_ect=bilateral),
        failed_classes=tuple(c for c in THASE_RUSH_CLASSES if c in failed_classes),
        failed_bilateral_ect=bilateral,
    )
