"""Maudsley Staging Method and Thase–Rush staging (treatments/staging.py), table-driven."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from treatments import staging, trd
from treatments.staging import ScoreFacts, TherapyFacts

AS_OF = date(2025, 6, 15)


def msm(**overrides):
    values = dict(
        as_of=AS_OF, episode_start=date(2025, 1, 1), baseline_severity="mild",
        failed_antidepressants=2, augmentation_used=False, ect_used=False,
    )
    values.update(overrides)
    return staging.maudsley(**values)


# --------------------------------------------------------------------------------------
# MSM components
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (date(2024, 1, 15), date(2024, 1, 15), 0),
        (date(2024, 1, 15), date(2024, 2, 14), 0),
        (date(2024, 1, 15), date(2024, 2, 15), 1),
        (date(2024, 1, 31), date(2024, 2, 29), 0),  # no 31 February: completes on 1 March
        (date(2024, 1, 31), date(2024, 3, 1), 1),
        (date(2023, 6, 15), date(2024, 6, 14), 11),
        (date(2023, 6, 15), date(2024, 6, 15), 12),
        (date(2024, 6, 15), date(2024, 1, 1), 0),  # an as-of date before the start
    ],
)
def test_months_are_completed_calendar_months(start, end, months):
    assert staging.completed_months(start, end) == months


def months_before(as_of: date, months: int) -> date:
    year, month = divmod(as_of.year * 12 + as_of.month - 1 - months, 12)
    return date(year, month + 1, as_of.day)


@pytest.mark.parametrize(
    ("months", "points"),
    [(0, 1), (12, 1), (13, 2), (24, 2), (25, 3), (120, 3)],
)
def test_duration_of_the_episode(months, points):
    result = msm(episode_start=months_before(AS_OF, months))
    duration = result.inputs["duration"]
    assert (duration.value, duration.points, duration.assumed) == (months, points, False)


def test_one_day_short_of_13_months_is_still_acute():
    start = months_before(AS_OF, 13) + timedelta(days=1)
    assert msm(episode_start=start).inputs["duration"].points == 1


@pytest.mark.parametrize(
    ("severity", "points"),
    [("subsyndromal", 1), ("mild", 2), ("moderate", 3), ("severe", 4), ("severe_psychotic", 5)],
)
def test_the_clinicians_severity_entry(severity, points):
    item = msm(baseline_severity=severity).inputs["severity"]
    assert (item.value, item.points, item.assumed) == (severity, points, False)


START = date(2025, 1, 1)

SCORE_SEVERITY_CASES = [
    # (scores as (scale, days after the episode start, total), expected category, points)
    ([("phq9", 0, 3)], "subsyndromal", 1),  # minimal
    ([("phq9", 0, 7)], "mild", 2),
    ([("phq9", 0, 12)], "moderate", 3),
    ([("phq9", 0, 17)], "moderate", 3),  # moderately severe -> moderate
    ([("phq9", 0, 22)], "severe", 4),
    ([("hamd17", 5, 5)], "subsyndromal", 1),  # normal
    ([("hamd17", 5, 25)], "severe", 4),  # very severe -> severe
    ([("madrs", 5, 36)], "severe", 4),
    ([("phq9", 0, 7), ("madrs", 10, 25), ("phq9", 20, 12)], "moderate", 3),  # the highest
    ([("phq9", 27, 22)], "severe", 4),  # the 28th day is still in the first 4 weeks
    ([("phq9", 28, 22), ("phq9", 3, 7)], "mild", 2),  # the 29th day is not
    ([("phq9", -1, 22), ("phq9", 3, 7)], "mild", 2),  # nor the day before the episode
]


@pytest.mark.parametrize(("scores", "category", "points"), SCORE_SEVERITY_CASES)
def test_without_an_entry_severity_comes_from_the_episodes_first_four_weeks(
    scores, category, points
):
    facts = [ScoreFacts(scale, START + timedelta(days=d), total) for scale, d, total in scores]
    item = msm(baseline_severity="", episode_start=START, scores=facts).inputs["severity"]
    assert (item.value, item.points, item.assumed) == (category, points, False)
    assert "first 4 weeks" in item.note


def test_the_clinicians_entry_wins_over_the_scores():
    facts = [ScoreFacts("phq9", START, 25)]
    item = msm(baseline_severity="mild", episode_start=START, scores=facts).inputs["severity"]
    assert (item.value, item.points) == ("mild", 2)


@pytest.mark.parametrize(
    ("episode_start", "scores"),
    [
        (START, []),  # no score at all
        (START, [ScoreFacts("phq9", START + timedelta(days=40), 25)]),  # only later scores
        (None, [ScoreFacts("phq9", START, 25)]),  # no episode start: no first 4 weeks
    ],
)
def test_unknown_severity_is_assumed_subsyndromal(episode_start, scores):
    result = msm(baseline_severity="", episode_start=episode_start, scores=scores)
    item = result.inputs["severity"]
    assert (item.value, item.points, item.assumed) == (None, 1, True)
    assert result.lower_bound


def test_unknown_episode_start_is_assumed_acute_and_marked():
    result = msm(episode_start=None)
    duration = result.inputs["duration"]
    assert (duration.value, duration.points, duration.assumed) == (None, 1, True)
    assert result.lower_bound


@pytest.mark.parametrize(
    ("failures", "points"),
    [(0, 1), (1, 1), (2, 1), (3, 2), (4, 2), (5, 3), (6, 3), (7, 4), (10, 4), (11, 5), (30, 5)],
)
def test_failed_antidepressants(failures, points):
    item = msm(failed_antidepressants=failures).inputs["failed_antidepressants"]
    assert (item.value, item.points) == (failures, points)


def test_no_failure_is_scored_as_the_first_row_and_says_so():
    item = msm(failed_antidepressants=0).inputs["failed_antidepressants"]
    assert item.points == 1 and "table starts at 1–2" in item.note
    assert not item.assumed


@pytest.mark.parametrize(("used", "points"), [(False, 0), (True, 1)])
def test_augmentation_and_ect_score_one_each(used, points):
    assert msm(augmentation_used=used).inputs["augmentation"].points == points
    assert msm(ect_used=used).inputs["ect"].points == points


# --------------------------------------------------------------------------------------
# MSM total and bands
# --------------------------------------------------------------------------------------

BAND_CASES = [
    # (months, severity, failures, augmentation, ECT) -> (score, band)
    ((0, "subsyndromal", 0, False, False), (3, "mild")),
    ((12, "moderate", 2, True, False), (6, "mild")),
    ((13, "moderate", 2, True, False), (7, "moderate")),
    ((24, "severe", 3, True, False), (9, "moderate")),
    ((25, "severe", 3, False, False), (9, "moderate")),
    ((25, "severe", 3, True, False), (10, "moderate")),
    ((25, "severe", 3, True, True), (11, "severe")),
    ((25, "severe_psychotic", 11, True, True), (15, "severe")),
]


@pytest.mark.parametrize(("given", "expected"), BAND_CASES)
def test_the_total_and_its_band(given, expected):
    months, severity, failures, augmentation, ect = given
    result = msm(
        episode_start=months_before(AS_OF, months), baseline_severity=severity,
        failed_antidepressants=failures, augmentation_used=augmentation, ect_used=ect,
    )
    assert (result.score, result.band) == expected
    assert not result.lower_bound


@pytest.mark.parametrize(
    ("score", "band"), [(3, "mild"), (6, "mild"), (7, "moderate"), (10, "moderate"),
                        (11, "severe"), (15, "severe")],
)
def test_band_edges(score, band):
    assert staging.msm_band(score) == band


@pytest.mark.parametrize("score", [2, 16])
def test_a_score_outside_3_to_15_is_an_error(score):
    with pytest.raises(ValueError):
        staging.msm_band(score)


# --------------------------------------------------------------------------------------
# Thase–Rush
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("catalog_class", "thase_rush"),
    [("SSRI", "SSRI"), ("SNRI", "SNRI"), ("TCA", "TCA"), ("Tetracyclic", "TCA"),
     ("MAOI", "MAOI"), ("RIMA", "MAOI"), ("NaSSA", "other"), ("NDRI", "other"),
     ("SARI", "other"), ("Serotonin modulator", "other"), ("Melatonergic", "other"),
     ("NRI", "other"), ("other", "other")],
)
def test_catalog_classes_map_to_the_five_thase_rush_classes(catalog_class, thase_rush):
    assert staging.thase_rush_class(catalog_class) == thase_rush


STAGE_CASES = [
    ([], False, 0),
    ([], True, 0),
    (["SSRI"], False, 1),
    (["SSRI"], True, 1),
    (["NaSSA", "NDRI"], False, 1),  # both "other": one class
    (["SSRI", "SNRI"], False, 2),
    (["SSRI", "NaSSA"], False, 2),
    (["SSRI", "TCA"], False, 2),  # the TCA is the second class
    (["SSRI", "SNRI", "TCA"], False, 3),
    (["SSRI", "SNRI", "Tetracyclic"], False, 3),
    (["SSRI", "SNRI", "TCA", "MAOI"], False, 4),
    (["SSRI", "SNRI", "TCA", "RIMA"], False, 4),
    (["SSRI", "SNRI", "TCA", "MAOI"], True, 5),
    (["SSRI", "TCA", "MAOI"], True, 3),  # the MAOI made stage II
]


@pytest.mark.parametrize(("classes", "ect", "stage"), STAGE_CASES)
def test_thase_rush_stages(classes, ect, stage):
    assert staging.thase_rush_stage_number(classes, failed_bilateral_ect=ect) == stage
    assert staging.thase_rush_stage(classes, failed_bilateral_ect=ect) == staging.STAGE_NAMES[stage]


@pytest.mark.parametrize(
    ("kind", "detail", "outcome", "failed"),
    [
        ("ect", "bilateral, 12 sessions", "no_response", True),
        ("ect", "Bilateral", "partial_response", True),
        ("ect", "right unilateral", "no_response", False),
        ("ect", "", "no_response", False),
        ("ect", "bilateral", "response", False),
        ("tms", "bilateral", "no_response", False),
    ],
)
def test_a_failed_bilateral_ect_course(kind, detail, outcome, failed):
    assert staging.is_failed_bilateral_ect(kind, detail, outcome) is failed


# --------------------------------------------------------------------------------------
# From a TRD evaluation
# --------------------------------------------------------------------------------------

DRUG_CLASSES = {
    "sertraline": ("SSRI", True, False), "venlafaxine": ("SNRI", True, False),
    "amitriptyline": ("TCA", True, False), "phenelzine": ("MAOI", True, False),
    "lithium": ("Mood stabiliser", False, True),
}


def failed_trial(index, name, outcome="no_response", start=None):
    drug_class, antidepressant, augmentation = DRUG_CLASSES[name]
    begin = start if start is not None else date(2024, 1, 1) + timedelta(days=70 * index)
    return trd.TrialFacts(
        id=index, drug=trd.DrugFacts(name, drug_class, antidepressant, Decimal("1"), augmentation),
        start_date=begin, end_date=begin + timedelta(days=60), dose_mg=Decimal("10"),
        adherence="good", outcome=outcome,
    )


def test_stage_reads_failures_augmentation_and_ect_from_the_record():
    trials = [failed_trial(i, n) for i, n in enumerate(
        ["sertraline", "venlafaxine", "amitriptyline", "phenelzine", "lithium"])]
    evaluation = trd.evaluate(trials, as_of=AS_OF, episode_start=date(2023, 12, 1))
    therapies = [TherapyFacts("ect", date(2025, 3, 1), "bilateral", "no_response")]

    result = staging.stage(evaluation, episode_start=date(2023, 12, 1),
                           baseline_severity="severe", therapies=therapies)

    assert result.thase_rush_stage == 5 and result.stage_name == "V"
    assert result.failed_classes == ("SSRI", "SNRI", "TCA", "MAOI")
    inputs = result.maudsley.inputs
    assert inputs["duration"].value == 18
    assert inputs["failed_antidepressants"].value == 4
    assert inputs["failed_antidepressants"].note == "amitriptyline, phenelzine, sertraline, venlafaxine"
    assert inputs["augmentation"].value is True and inputs["ect"].value is True
    assert result.maudsley.score == 2 + 4 + 2 + 1 + 1


def test_augmentation_before_the_episode_and_therapies_after_the_as_of_date_do_not_count():
    trials = [failed_trial(0, "lithium", start=date(2022, 1, 1))]
    evaluation = trd.evaluate(trials, as_of=AS_OF, episode_start=date(2024, 1, 1))
    therapies = [TherapyFacts("ect", AS_OF + timedelta(days=1))]

    result = staging.stage(evaluation, episode_start=date(2024, 1, 1), therapies=therapies)

    assert result.maudsley.inputs["augmentation"].value is False
    assert result.maudsley.inputs["ect"].value is False
    assert result.thase_rush_stage == 0 and result.failed_classes == ()


def test_responders_are_stage_zero_and_not_failures():
    evaluation = trd.evaluate([failed_trial(0, "sertraline", outcome="response")], as_of=AS_OF)
    result = staging.stage(evaluation, episode_start=None)
    assert result.thase_rush_stage == 0
    assert result.maudsley.inputs["failed_antidepressants"].value == 0
    assert result.maudsley.score == 3 and result.maudsley.lower_bound
