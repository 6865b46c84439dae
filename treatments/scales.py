"""Depression rating scales: ranges, severity bands and remission thresholds.

Pure Python. Figures from the project's clinical reference (shared/reference/README.md):
PHQ-9 bands Kroenke et al. 2001, remission < 5 (ICSI); HAM-D-17 bands Zimmerman et al. 2013,
remission <= 7 (conventional cut-off); MADRS bands Snaith et al. 1986, remission <= 10
(SAINT trial, MADRS < 11).

HAM-D-17 item ranges: the clinical reference gives only the 0-52 total, so they are the
instrument's own (Hamilton M. "A rating scale for depression", J Neurol Neurosurg Psychiatry
1960;23:56-62, in its standard 17-item form): nine items are rated 0-4 (1 depressed mood,
2 guilt, 3 suicide, 7 work and activities, 8 retardation, 9 agitation, 10 psychic anxiety,
11 somatic anxiety, 15 hypochondriasis) and eight 0-2 (4-6 early, middle and late insomnia,
12 gastrointestinal and 13 general somatic symptoms, 14 genital symptoms, 16 loss of weight,
17 insight): 9 x 4 + 8 x 2 = 52, the total range.
"""

from dataclasses import dataclass

PHQ9 = "phq9"
HAMD17 = "hamd17"
MADRS = "madrs"


@dataclass(frozen=True)
class Band:
    low: int
    high: int
    label: str


@dataclass(frozen=True)
class Scale:
    code: str
    name: str
    max_total: int
    item_count: int
    item_max: int
    items_required: bool
    bands: tuple[Band, ...]
    remission_max: int  # remission when total <= remission_max
    source: str
    item_maxima: tuple[int, ...] = ()  # per item, when the items differ (else item_max each)

    def item_range_max(self, number: int) -> int:
        """The highest score of item `number` (1-based)."""
        return self.item_maxima[number - 1] if self.item_maxima else self.item_max


SCALES = {
    PHQ9: Scale(
        PHQ9,
        "PHQ-9",
        27,
        9,
        3,
        True,
        (
            Band(0, 4, "minimal"),
            Band(5, 9, "mild"),
            Band(10, 14, "moderate"),
            Band(15, 19, "moderately severe"),
            Band(20, 27, "severe"),
        ),
        4,
        "Kroenke et al. 2001; remission < 5 per ICSI",
    ),
    HAMD17: Scale(
        HAMD17,
        "HAM-D-17",
        52,
        17,
        4,
        False,
        (
            Band(0, 7, "normal"),
            Band(8, 13, "mild"),
            Band(14, 18, "moderate"),
            Band(19, 22, "severe"),
            Band(23, 52, "very severe"),
        ),
        7,
        "Zimmerman et al. 2013; remission <= 7 (conventional cut-off); item ranges Hamilton 1960",
        # Items 1-17 (Hamilton 1960, standard 17-item form; see the module docstring).
        (4, 4, 4, 2, 2, 2, 4, 4, 4, 4, 4, 2, 2, 2, 4, 2, 2),
    ),
    MADRS: Scale(
        MADRS,
        "MADRS",
        60,
        10,
        6,
        False,
        (
            Band(0, 6, "normal"),
            Band(7, 19, "mild"),
            Band(20, 34, "moderate"),
            Band(35, 60, "severe"),
        ),
        10,
        "Snaith et al. 1986; remission <= 10 (SAINT trial)",
    ),
}
SCALE_CHOICES = [(code, scale.name) for code, scale in SCALES.items()]

# PHQ-9 item 9 asks about thoughts of death or self-harm.
PHQ9_SUICIDE_ITEM = 9

# Maudsley Staging Method severity categories, from a scale band.
MSM_SEVERITY_FROM_BAND = {
    "minimal": "subsyndromal",
    "normal": "subsyndromal",
    "mild": "mild",
    "moderate": "moderate",
    "moderately severe": "moderate",
    "severe": "severe",
    "very severe": "severe",
}


def validate(code: str, total, items) -> dict[str, str]:
    """Field errors for a score: the one rule of the web form, the API, imports and the model
    (ScaleScore.clean). PHQ-9 needs its nine items and the total is their sum (it may be left
    out); the other scales need their total, the items being optional but summing to it."""
    scale = SCALES.get(code)
    if scale is None:
        return {"scale": f"Unknown scale {code!r}: use one of {', '.join(SCALES)}."}
    errors = {}
    if items:
        if len(items) != scale.item_count:
            errors["items"] = f"{scale.name} has {scale.item_count} items, not {len(items)}."
        else:
            for number, item in enumerate(items, start=1):
                highest = scale.item_range_max(number)
                if not _is_int(item) or not 0 <= item <= highest:
                    errors["items"] = (
                        f"{scale.name} item {number} is scored 0–{highest}."
                        if scale.item_maxima
                        else f"Each {scale.name} item is scored 0–{highest}."
                    )
                    break
    elif scale.items_required:
        errors["items"] = f"All {scale.item_count} {scale.name} items are needed."
    if total is None:
        if not scale.items_required or not items or errors:
            errors.setdefault("total", f"Enter the {scale.name} total.")
    elif not _is_int(total) or not 0 <= total <= scale.max_total:
        errors["total"] = f"The {scale.name} total is 0–{scale.max_total}."
    elif items and "items" not in errors and sum(items) != total:
        errors["total"] = f"The total {total} is not the sum of the items ({sum(items)})."
    return errors


def total_of(code: str, total, items) -> int:
    """The total to store for a score `validate` accepts: given, or the sum of the items."""
    return total if total is not None else sum(items)


def band(code: str, total: int) -> str:
    for candidate in SCALES[code].bands:
        if candidate.low <= total <= candidate.high:
            return candidate.label
    raise ValueError(f"{total} is outside the {SCALES[code].name} range")


def in_remission(code: str, total: int) -> bool:
    return total <= SCALES[code].remission_max


def at_suicide_risk(flagged_by_clinician: bool, latest_phq9_item9: int | None) -> bool:
    """The one rule for "suicide risk: discuss urgently": a clinician's flag, or item 9 of the
    latest PHQ-9 above 0."""
    return bool(flagged_by_clinician) or (latest_phq9_item9 or 0) > 0


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
