"""The rules' own words for the pages, written from the pure modules' constants.

Templates never type a threshold or a window: change trd.MIN_ADEQUATE_WEEKS or a scale's
remission cut-off and these sentences follow."""

from . import measured, scales, staging, trd


def trd_definition() -> str:
    return (
        f"at least {trd.MIN_FAILED_TRIALS} different antidepressants, each taken for at least "
        f"{trd.MIN_ADEQUATE_WEEKS} weeks at or above its minimum adequate dose, without poor "
        "adherence, with no or partial response"
    )


def remission_cutoffs() -> str:
    return ", ".join(
        f"{scales.SCALES[code].name} ≤ {scales.SCALES[code].remission_max}"
        for code in (scales.PHQ9, scales.HAMD17, scales.MADRS)
    )


def measured_outcome() -> str:
    preference = [scales.SCALES[code].name for code in measured.SCALE_PREFERENCE]
    response, partial = measured.RESPONSE_DROP_PERCENT, measured.PARTIAL_DROP_PERCENT
    return (
        "Measured outcome of a trial: its baseline (the last score up to "
        f"{measured.BASELINE_WINDOW_DAYS} days before the start) against the last score up to "
        f"its end; {preference[0]} preferred, then {', then '.join(preference[1:])}. "
        f"≥ {response}% lower is a response (remission when also at or under the remission "
        f"cut-off: {remission_cutoffs()}), {partial}–{response - 1}% partial, under {partial}% no "
        "response. The recorded outcome is what the TRD definition uses."
    )


def augmentation_counts() -> str:
    return f"an add-on taken for {staging.AUGMENTATION_MIN_DAYS} days or more"


def page_text() -> dict[str, str]:
    """The sentences a template may show, by name."""
    return {
        "trd_definition": trd_definition(),
        "measured_outcome": measured_outcome(),
        "augmentation_counts": augmentation_counts(),
    }
