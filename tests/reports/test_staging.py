"""Thase–Rush staging from the classes of trials that count toward TRD."""

import pytest

from treatments.staging import thase_rush_stage

CASES = [
    # (failed classes, failed bilateral ECT, stage)
    ([], False, "0"),
    ([], True, "0"),
    (["SSRI"], False, "I"),
    (["SSRI", "SSRI"], False, "I"),
    (["SSRI"], True, "I"),
    (["SSRI", "SNRI"], False, "II"),
    (["SSRI", "TCA"], False, "II"),  # the TCA is the second class: no stage III yet
    (["SSRI", "SNRI", "MAOI"], False, "II"),
    (["SSRI", "SNRI", "TCA"], False, "III"),
    (["SSRI", "MAOI", "TCA"], False, "III"),  # the MAOI made stage II
    (["SSRI", "SNRI", "TCA"], True, "III"),
    (["SSRI", "SNRI", "TCA", "MAOI"], False, "IV"),
    (["SSRI", "SNRI", "TCA", "MAOI"], True, "V"),
    (["SSRI", "SNRI", "MAOI"], True, "II"),  # ECT without the TCA stage changes nothing
    (["SSRI", "", " "], False, "I"),
    (["NDRI", "NaSSA"], False, "II"),  # each other mechanism is a class of its own
    (["SSRI", "SNRI", "TCA", "RIMA"], False, "III"),  # a RIMA is not the stage IV MAOI
    (["SSRI", "SNRI", "Tetracyclic", "MAOI"], True, "V"),
]


@pytest.mark.parametrize(
    ("classes", "ect", "stage"),
    CASES,
    ids=lambda value: "+".join(value) or "none" if isinstance(value, list) else None,
)
def test_it_stages_failed_classes(classes, ect, stage):
    assert thase_rush_stage(classes, failed_bilateral_ect=ect) == stage


def test_it_accepts_any_iterable_of_classes():
    assert thase_rush_stage(c for c in ("SNRI", "NaSSA")) == "II"
