"""Thase–Rush staging of treatment resistance (reference README, section 4b). Pure Python.

Stages are cumulative: each needs the one before it.

- 0: no failed adequate trial
- I: failed adequate trial(s) of one class
- II: plus an adequate failed trial of a distinctly different class
- III: stage II plus a failed adequate TCA trial
- IV: stage III plus a failed adequate MAOI trial
- V: stage IV plus a failed course of bilateral ECT

Known limitation, as in the source: augmentation is ignored and the stage says nothing
about adequacy beyond the trials the TRD rule already counts.
"""

from collections.abc import Iterable

TCA = "TCA"
MAOI = "MAOI"


def thase_rush_stage(failed_classes: Iterable[str], *, failed_bilateral_ect: bool = False) -> str:
    """The stage ("0" to "V") from the drug classes of trials counting toward TRD.

    The TCA of stage III and the MAOI of stage IV come on top of the two classes of
    stage II, so they do not count toward those two.
    """
    classes = {c.strip() for c in failed_classes if c and c.strip()}
    if not classes:
        return "0"
    if len(classes) < 2:
        return "I"
    if TCA not in classes or len(classes - {TCA}) < 2:
        return "II"
    if MAOI not in classes or len(classes - {TCA, MAOI}) < 2:
        return "III"
    if not failed_bilateral_ect:
        return "IV"
    return "V"
