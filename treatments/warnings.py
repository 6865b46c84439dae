"""Warnings derived from a patient's recorded trials. Pure Python, stored nowhere.

Each warning names its code, a severity (``high``, ``moderate`` or ``info``), a message,
the ids of the trials involved and short citations of its sources (the clinical reference,
shared/reference/README.md sections 6a and 6b, and the source documents).

Dates, as in the TRD rule (treatments/trd.py):

- A trial runs from its start date to the earlier of its end date and the as-of date
  (nothing after the as-of date is known on that date); trials starting after the as-of
  date are ignored.
- Two trials overlap when they share at least one calendar day (both ends inclusive):
  a trial that starts on the day another ends overlaps it by one day.
- The gap of a switch is ``next.start_date - previous.end``, in days. A washout of
  ``N`` days is respected when the gap is at least ``N``: stopping on 1 March and starting
  on 15 March is a 14-day gap, enough for a 2-week washout; the 14th is one day short.

The rules:

``maoi_serotonergic_overlap`` (high)
    An MAOI (catalog classes ``MAOI`` and ``RIMA``) overlapping a serotonergic
    antidepressant (the classes in :data:`SEROTONERGIC_CLASSES`): risk of serotonin
    syndrome. NICE NG222 rec 1.9.9 names SSRIs, SNRIs and TCAs; the SPS switching guide
    covers "SSRI, tricyclic or related antidepressants" (hence tetracyclics, SARIs and the
    serotonin modulators, which act on serotonin reuptake or receptors).
``maoi_hypertensive_overlap`` (high)
    An MAOI overlapping another MAOI or RIMA, or one of :data:`MAOI_HYPERTENSIVE_PARTNERS`
    (bupropion, mirtazapine, methylphenidate, and any drug of the NDRI or stimulant
    classes): the main risk is a hypertensive crisis (reference section 6b, from the
    Wellbutrin, Remeron and Ritalin US labels). For two MAOIs, hypertensive crisis is the
    main risk (serotonin syndrome is possible too); for mirtazapine the Remeron label
    gives serotonin syndrome as its reason, so the message names both.
``maoi_washout_too_short`` (high)
    A switch (no overlap) closer than the reference's washout (section 6b):
    fluoxetine → irreversible MAOI 5 weeks; fluoxetine → moclobemide (RIMA) 4 weeks;
    vortioxetine → MAOI/RIMA 21 days (Trintellix US label); another serotonergic
    antidepressant, bupropion or mirtazapine → MAOI/RIMA 2 weeks (≈5 half-lives; the
    Wellbutrin and Remeron labels give 14 days); irreversible MAOI → any other
    antidepressant, or methylphenidate, 2 weeks (Ritalin US label for methylphenidate).
    The reference gives no figure for switching away from a RIMA, so no washout is
    checked there (an overlap is still flagged). Every earlier trial is checked, not only
    the one just before.
``lamotrigine_interaction`` (high for valproate, moderate for the inducers and
    contraceptives, info for folic acid)
    Lamotrigine overlapping a co-medication named by the Lamictal label (Table 13) or by
    the source document "What Causes Treatment Resistant Depression"; primidone with
    phenobarbital (reference section 6a).
``dose_above_maximum`` (moderate)
    The starting dose or any dose change strictly above the catalog's usual maximum,
    dated from the trial's start up to the earlier of its end and the as-of date: a dose
    change after the as-of date is not known yet on that date. The warning cites the
    catalog's source for that maximum.
``same_class_overlap`` (moderate)
    Two different antidepressants of the same catalog class overlapping. Pairs of MAOIs
    are already reported as ``maoi_serotonergic_overlap`` and not repeated here.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from .trd import TrialFacts, format_dose

HIGH = "high"
MODERATE = "moderate"
INFO = "info"
SEVERITY_ORDER = {HIGH: 0, MODERATE: 1, INFO: 2}

MAOI_SEROTONERGIC_OVERLAP = "maoi_serotonergic_overlap"
MAOI_HYPERTENSIVE_OVERLAP = "maoi_hypertensive_overlap"
MAOI_WASHOUT_TOO_SHORT = "maoi_washout_too_short"
LAMOTRIGINE_INTERACTION = "lamotrigine_interaction"
DOSE_ABOVE_MAXIMUM = "dose_above_maximum"
SAME_CLASS_OVERLAP = "same_class_overlap"
CODE_ORDER = {
    code: rank
    for rank, code in enumerate(
        (
            MAOI_SEROTONERGIC_OVERLAP,
            MAOI_HYPERTENSIVE_OVERLAP,
            MAOI_WASHOUT_TOO_SHORT,
            LAMOTRIGINE_INTERACTION,
            DOSE_ABOVE_MAXIMUM,
            SAME_CLASS_OVERLAP,
        )
    )
}

IRREVERSIBLE_MAOI = "MAOI"
RIMA = "RIMA"
MAOI_CLASSES = frozenset({IRREVERSIBLE_MAOI, RIMA})
SEROTONERGIC_CLASSES = frozenset(
    {"SSRI", "SNRI", "TCA", "Tetracyclic", "SARI", "Serotonin modulator"}
)
FLUOXETINE = "fluoxetine"
VORTIOXETINE = "vortioxetine"
LAMOTRIGINE = "lamotrigine"
METHYLPHENIDATE = "methylphenidate"

# Short citations, named as in the clinical reference and the source documents.
NICE_NG222 = "NICE NG222 rec 1.9.9"
SPS_SWITCHING = "SPS (NHS) Medicines Q&A: switching MAOIs and SSRI/tricyclic antidepressants"
ONTARIO_FORMULARY = "Ontario Drug Benefit formulary (fluoxetine)"
ALPF_PHARMACOLOGY = "alpfmedical.info pharmacology text"
PSYCHIATRIENET = "psychiatrienet.nl switch wiki"
ANNUAIRE29 = "annuaire29.org summary"
LAMICTAL_LABEL = "Lamictal label (table 13)"
SEED_001 = "What Causes Treatment Resistant Depression"
TRINTELLIX_LABEL = "Trintellix US label (contraindications)"
WELLBUTRIN_LABEL = "Wellbutrin US label (contraindications)"
REMERON_LABEL = "Remeron US label (contraindications)"
RITALIN_LABEL = "Ritalin US label (contraindications)"
CATALOG_MAXIMUM = "Drug catalog (usual maximum daily dose)"

WASHOUT_FLUOXETINE_TO_MAOI = 35  # 5 weeks
WASHOUT_FLUOXETINE_TO_RIMA = 28  # 4 weeks
WASHOUT_VORTIOXETINE_TO_MAOI = 21  # Trintellix label
WASHOUT_SEROTONERGIC_TO_MAOI = 14  # 2 weeks, about 5 half-lives
WASHOUT_FROM_MAOI = 14  # 2 weeks for MAO to regenerate

HYPERTENSIVE_CRISIS = "hypertensive crisis"
SEROTONIN_SYNDROME = "serotonin syndrome"


@dataclass(frozen=True)
class MaoiPartner:
    risk: str
    sources: tuple[str, ...]
    washout_to_maoi: int | None = None  # days after stopping it before an MAOI


# Non-serotonergic partners an MAOI must not overlap (reference section 6b), by name or class.
MAOI_HYPERTENSIVE_PARTNERS = {
    "bupropion": MaoiPartner(HYPERTENSIVE_CRISIS, (WELLBUTRIN_LABEL,), 14),
    "mirtazapine": MaoiPartner(
        f"{HYPERTENSIVE_CRISIS}, and {SEROTONIN_SYNDROME} (the reason its label gives)",
        (REMERON_LABEL,),
        14,
    ),
    METHYLPHENIDATE: MaoiPartner(HYPERTENSIVE_CRISIS, (RITALIN_LABEL,)),
}
MAOI_HYPERTENSIVE_CLASSES = {
    "NDRI": MaoiPartner(HYPERTENSIVE_CRISIS, (WELLBUTRIN_LABEL,), 14),
    "Stimulant": MaoiPartner(HYPERTENSIVE_CRISIS, (RITALIN_LABEL,)),
}
# No washout is longer: trials further apart than this can raise no warning together.
LONGEST_WASHOUT = max(
    WASHOUT_FLUOXETINE_TO_MAOI,
    WASHOUT_FLUOXETINE_TO_RIMA,
    WASHOUT_VORTIOXETINE_TO_MAOI,
    WASHOUT_SEROTONERGIC_TO_MAOI,
    WASHOUT_FROM_MAOI,
    *(partner.washout_to_maoi or 0 for partner in MAOI_HYPERTENSIVE_PARTNERS.values()),
    *(partner.washout_to_maoi or 0 for partner in MAOI_HYPERTENSIVE_CLASSES.values()),
)


@dataclass(frozen=True)
class LamotriginePartner:
    effect: str
    severity: str
    sources: tuple[str, ...]


LAMOTRIGINE_PARTNERS = {
    "valproate": LamotriginePartner(
        "raises lamotrigine levels about 2-fold (higher rash risk; the label halves the "
        "lamotrigine dose and titration)",
        HIGH,
        (LAMICTAL_LABEL, SEED_001),
    ),
    "estrogen-containing contraceptive": LamotriginePartner(
        "lowers lamotrigine levels by about half (levels rise again in the pill-free week "
        "and after stopping)",
        MODERATE,
        (LAMICTAL_LABEL, SEED_001),
    ),
    "carbamazepine": LamotriginePartner(
        "lowers lamotrigine levels by about 40%", MODERATE, (LAMICTAL_LABEL,)
    ),
    "phenytoin": LamotriginePartner(
        "lowers lamotrigine levels by about 40%", MODERATE, (LAMICTAL_LABEL,)
    ),
    "phenobarbital": LamotriginePartner(
        "lowers lamotrigine levels by about 40%", MODERATE, (LAMICTAL_LABEL, SEED_001)
    ),
    "primidone": LamotriginePartner(
        "lowers lamotrigine levels by about 40% (as phenobarbital, which it becomes)",
        MODERATE,
        (LAMICTAL_LABEL,),
    ),
    "rifampin": LamotriginePartner(
        "lowers lamotrigine exposure by about 40%", MODERATE, (LAMICTAL_LABEL, SEED_001)
    ),
    "folic acid": LamotriginePartner(
        "may cancel lamotrigine's benefit (one study; not yet confirmed)", INFO, (SEED_001,)
    ),
}

__all__ = [
    "LAMOTRIGINE_PARTNERS",
    "MAOI_CLASSES",
    "MAOI_HYPERTENSIVE_PARTNERS",
    "SEROTONERGIC_CLASSES",
    "HistoryWarning",
    "history_warnings",
]


@dataclass(frozen=True)
class HistoryWarning:
    code: str
    severity: str
    message: str
    trial_ids: tuple[int | None, ...]
    sources: tuple[str, ...]


@dataclass(frozen=True)
class _Span:
    trial: TrialFacts
    end: date  # the earlier of the end date and the as-of date
    ongoing: bool = False  # no end date, or one after the as-of date

    @property
    def name(self) -> str:
        return self.trial.drug.name

    @property
    def drug_class(self) -> str:
        return self.trial.drug.drug_class

    @property
    def is_maoi(self) -> bool:
        return self.drug_class in MAOI_CLASSES

    @property
    def is_serotonergic(self) -> bool:
        return self.trial.drug.is_antidepressant and (
            self.drug_class in SEROTONERGIC_CLASSES or self.is_maoi
        )

    def label(self) -> str:
        until = "ongoing" if self.ongoing else self.end.isoformat()
        return f"{self.name} ({self.trial.start_date.isoformat()} → {until})"


def _overlap_days(a: _Span, b: _Span) -> int:
    first = max(a.trial.start_date, b.trial.start_date)
    last = min(a.end, b.end)
    return (last - first).days + 1


def _ordered(a: _Span, b: _Span) -> tuple[_Span, _Span]:
    key = lambda s: (s.trial.start_date, s.trial.id is None, s.trial.id or 0)  # noqa: E731
    return (a, b) if key(a) <= key(b) else (b, a)


def _ids(*spans: _Span) -> tuple[int | None, ...]:
    return tuple(span.trial.id for span in spans)


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def _hypertensive_partner(span: _Span) -> MaoiPartner | None:
    return MAOI_HYPERTENSIVE_PARTNERS.get(span.name) or MAOI_HYPERTENSIVE_CLASSES.get(
        span.drug_class
    )


def _maoi_overlap(a: _Span, b: _Span, days: int) -> HistoryWarning | None:
    if not (a.is_maoi or b.is_maoi) or a.name == b.name:
        return None
    overlap = f"{a.label()} and {b.label()} overlap by {_days(days)}"
    if a.is_maoi and b.is_maoi:
        return HistoryWarning(
            code=MAOI_HYPERTENSIVE_OVERLAP,
            severity=HIGH,
            message=(
                f"{overlap}: two MAOIs together are contraindicated; the main risk is a "
                f"{HYPERTENSIVE_CRISIS} ({SEROTONIN_SYNDROME} is possible too)."
            ),
            trial_ids=_ids(a, b),
            sources=(SPS_SWITCHING,),
        )
    maoi, other = (a, b) if a.is_maoi else (b, a)
    partner = _hypertensive_partner(other)
    if partner is not None:
        return HistoryWarning(
            code=MAOI_HYPERTENSIVE_OVERLAP,
            severity=HIGH,
            message=(
                f"{overlap}: an MAOI with {other.name} is contraindicated; risk: {partner.risk}."
            ),
            trial_ids=_ids(a, b),
            sources=partner.sources,
        )
    if other.is_serotonergic:
        return HistoryWarning(
            code=MAOI_SEROTONERGIC_OVERLAP,
            severity=HIGH,
            message=(
                f"{overlap}: an MAOI with a serotonergic antidepressant is "
                f"contraindicated ({SEROTONIN_SYNDROME})."
            ),
            trial_ids=_ids(a, b),
            sources=(NICE_NG222, SPS_SWITCHING),
        )
    return None


def _washout(before: _Span, after: _Span) -> tuple[int, tuple[str, ...]] | None:
    """The washout (days, sources) the reference asks for between two trials, if any."""
    if before.name == after.name:
        return None
    if before.drug_class == IRREVERSIBLE_MAOI and after.name == METHYLPHENIDATE:
        return WASHOUT_FROM_MAOI, (RITALIN_LABEL,)
    if not (before.trial.drug.is_antidepressant and after.trial.drug.is_antidepressant):
        return None
    needed: list[tuple[int, tuple[str, ...]]] = []
    if before.drug_class == IRREVERSIBLE_MAOI:
        needed.append((WASHOUT_FROM_MAOI, (ONTARIO_FORMULARY, ALPF_PHARMACOLOGY, SPS_SWITCHING)))
    partner = _hypertensive_partner(before)
    if after.is_maoi and partner is not None and partner.washout_to_maoi:
        needed.append((partner.washout_to_maoi, partner.sources))
    if after.is_maoi and before.is_serotonergic and not before.is_maoi:
        if before.name == VORTIOXETINE:
            needed.append((WASHOUT_VORTIOXETINE_TO_MAOI, (TRINTELLIX_LABEL,)))
        elif before.name == FLUOXETINE and after.drug_class == IRREVERSIBLE_MAOI:
            needed.append((WASHOUT_FLUOXETINE_TO_MAOI, (ONTARIO_FORMULARY, ALPF_PHARMACOLOGY)))
        elif before.name == FLUOXETINE:
            needed.append((WASHOUT_FLUOXETINE_TO_RIMA, (PSYCHIATRIENET,)))
        else:
            needed.append(
                (WASHOUT_SEROTONERGIC_TO_MAOI, (ALPF_PHARMACOLOGY, ANNUAIRE29, SPS_SWITCHING))
            )
    return max(needed, default=None, key=lambda item: item[0])


def _washout_warning(before: _Span, after: _Span) -> HistoryWarning | None:
    washout = _washout(before, after)
    if washout is None:
        return None
    days_needed, sources = washout
    gap = (after.trial.start_date - before.end).days
    if gap >= days_needed:
        return None
    return HistoryWarning(
        code=MAOI_WASHOUT_TOO_SHORT,
        severity=HIGH,
        message=(
            f"{after.name} started {_days(gap)} after {before.name} stopped "
            f"({before.end.isoformat()} → {after.trial.start_date.isoformat()}); "
            f"a washout of at least {_days(days_needed)} is advised for this switch."
        ),
        trial_ids=_ids(before, after),
        sources=sources,
    )


def _lamotrigine(a: _Span, b: _Span, days: int) -> HistoryWarning | None:
    if a.name == LAMOTRIGINE:
        lamotrigine, other = a, b
    elif b.name == LAMOTRIGINE:
        lamotrigine, other = b, a
    else:
        return None
    partner = LAMOTRIGINE_PARTNERS.get(other.name)
    if partner is None:
        return None
    return HistoryWarning(
        code=LAMOTRIGINE_INTERACTION,
        severity=partner.severity,
        message=(
            f"{lamotrigine.label()} overlaps {other.label()} by {_days(days)}: "
            f"{other.name} {partner.effect}."
        ),
        trial_ids=_ids(a, b),
        sources=partner.sources,
    )


def _same_class(a: _Span, b: _Span, days: int) -> HistoryWarning | None:
    if a.name == b.name or a.drug_class != b.drug_class:
        return None
    if not (a.trial.drug.is_antidepressant and b.trial.drug.is_antidepressant):
        return None
    if a.is_maoi and b.is_maoi:
        return None  # reported as maoi_hypertensive_overlap
    return HistoryWarning(
        code=SAME_CLASS_OVERLAP,
        severity=MODERATE,
        message=(
            f"{a.label()} and {b.label()} are both {a.drug_class}s and overlap by "
            f"{_days(days)}: two antidepressants of the same class at once."
        ),
        trial_ids=_ids(a, b),
        sources=(SPS_SWITCHING,),
    )


def _dose_above_maximum(
    span: _Span, maximum: Decimal | None, source: str, as_of: date
) -> HistoryWarning | None:
    if maximum is None:
        return None
    trial = span.trial
    last = min(span.end, as_of)
    doses = [(trial.start_date, trial.dose_mg)] + [
        (c.date, c.dose_mg) for c in trial.dose_changes if trial.start_date <= c.date <= last
    ]
    above = [(when, dose) for when, dose in doses if dose > maximum]
    if not above:
        return None
    when, dose = max(above, key=lambda item: item[1])
    return HistoryWarning(
        code=DOSE_ABOVE_MAXIMUM,
        severity=MODERATE,
        message=(
            f"{span.label()}: {format_dose(dose)} mg/day from {when.isoformat()} is above the "
            f"usual maximum of {format_dose(maximum)} mg/day."
        ),
        trial_ids=_ids(span),
        sources=(f"{CATALOG_MAXIMUM}: {source}" if source else CATALOG_MAXIMUM,),
    )


def _pairs_within_reach(spans: list[_Span]) -> Iterator[tuple[_Span, _Span]]:
    """The pairs (earlier, later) of `spans` (sorted by start) that can raise a warning, in
    the order of itertools.combinations: one sweep, not every pair.

    A later span starting `LONGEST_WASHOUT` days or more after an earlier one ends neither
    overlaps it nor comes too soon after it, and every span after it starts later still, so
    the scan from each span stops at the first such start: the work grows with the pairs
    that are close in time, not with the square of the history's length.
    """
    starts = [span.trial.start_date for span in spans]
    for index, earlier in enumerate(spans):
        reach = earlier.end + timedelta(days=LONGEST_WASHOUT)
        for later in spans[index + 1 : bisect_left(starts, reach, lo=index + 1)]:
            yield _ordered(earlier, later)


def history_warnings(
    trials: Iterable[TrialFacts],
    *,
    as_of: date,
    max_dose_mg: Mapping[str, Decimal | None] | None = None,
    max_dose_sources: Mapping[str, str] | None = None,
) -> list[HistoryWarning]:
    """All warnings for ``trials`` as of ``as_of``: most severe first, then by code (in
    the order of the module docstring), then by the trials' start dates.

    ``max_dose_mg`` maps a drug name to the catalog's usual maximum daily dose and
    ``max_dose_sources`` to the source of that figure (cited by the warning).
    """
    maxima = max_dose_mg or {}
    max_sources = max_dose_sources or {}
    spans = sorted(
        (
            _Span(
                t,
                min(t.end_date or as_of, as_of),
                ongoing=t.end_date is None or t.end_date > as_of,
            )
            for t in trials
            if t.start_date <= as_of
        ),
        key=lambda s: (s.trial.start_date, s.trial.id is None, s.trial.id or 0),
    )
    found: list[HistoryWarning | None] = []
    for span in spans:
        found.append(
            _dose_above_maximum(span, maxima.get(span.name), max_sources.get(span.name, ""), as_of)
        )
    for a, b in _pairs_within_reach(spans):
        days = _overlap_days(a, b)
        if days > 0:
            found += [_maoi_overlap(a, b, days), _lamotrigine(a, b, days), _same_class(a, b, days)]
        else:
            found.append(_washout_warning(a, b))
    warnings = [w for w in found if w is not None]
    return sorted(warnings, key=lambda w: (SEVERITY_ORDER[w.severity], CODE_ORDER[w.code]))
