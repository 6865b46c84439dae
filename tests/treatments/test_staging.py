"""Maudsley Staging Method and Thase–Rush staging (treatments/staging.py), table-driven."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.template.loader import render_to_string

from treatments import staging, trd
from treatments.staging import ScoreFacts, TherapyFacts

AS_OF = date(2025, 6, 15)


def msm(**overrides):
    values = dict(
        as_of=AS_OF,
        episode_start=date(2025, 1, 1),
        baseline_severity="mild",
        failed_antidepressants=2,
        augmentation_used=False,
        ect_used=False,
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
    ids=["onset-today", "12-months", "13-months", "24-months", "25-months", "10-years"],
)
def test_duration_scores_1_up_to_12_calendar_months_2_up_to_24_and_3_beyond(months, points):
    result = msm(episode_start=months_before(AS_OF, months))
    duration = result.inputs["duration"]
    assert (duration.value, duration.points, duration.assumed) == (months, points, False)


@pytest.mark.parametrize(
    ("months", "extra_days", "points"),
    [(12, 0, 1), (12, 1, 2), (24, 0, 2), (24, 1, 3), (24, 30, 3), (11, 30, 1)],
    ids=[
        "12m-exactly",
        "12m-and-1-day",
        "24m-exactly",
        "24m-and-1-day",
        "24m-and-30-days",
        "11m-and-30-days",
    ],
)
def test_duration_day_edges_count_calendar_months_not_completed_ones(months, extra_days, points):
    start = months_before(AS_OF, months) - timedelta(days=extra_days)
    duration = msm(episode_start=start).inputs["duration"]
    assert duration.points == points
    assert start.isoformat() in duration.note


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


@pytest.mark.parametrize(
    ("scores", "category", "points"),
    SCORE_SEVERITY_CASES,
    ids=lambda value: repr(value) if isinstance(value, list) else None,
)
def test_without_an_entry_severity_comes_from_the_episodes_first_four_weeks(
    scores, category, points
):
    facts = [ScoreFacts(scale, START + timedelta(days=d), total) for scale, d, total in scores]
    item = msm(baseline_severity="", episode_start=START, scores=facts).inputs["severity"]
    assert (item.value, item.points, item.assumed) == (category, points, False)
    assert "first 4 weeks" in item.note


FIRST_SCORE_CASES = [
    # (scores as (scale, days after the episode start, total), category, date of the score)
    ([("hamd17", 35, 24)], "severe", 35),  # a first HAM-D-17 of 24 in week 6
    ([("phq9", 40, 7), ("phq9", 60, 25)], "mild", 40),  # the first, not the worst
    ([("phq9", -5, 25), ("madrs", 30, 25)], "moderate", 30),  # before the onset: not in it
]


@pytest.mark.parametrize(
    ("scores", "category", "day"),
    FIRST_SCORE_CASES,
    ids=["hamd17-24-in-week-6", "first-not-worst", "before-onset-ignored"],
)
def test_without_early_scores_severity_comes_from_the_first_score_in_the_episode(
    scores, category, day
):
    facts = [ScoreFacts(scale, START + timedelta(days=d), total) for scale, d, total in scores]
    item = msm(baseline_severity="", episode_start=START, scores=facts).inputs["severity"]
    assert (item.value, item.assumed) == (category, False)
    assert (START + timedelta(days=day)).isoformat() in item.note
    assert "first score in the episode" in item.note


def test_a_score_after_the_as_of_date_is_not_used_for_severity():
    facts = [ScoreFacts("phq9", START + timedelta(days=3), 25)]
    item = msm(
        baseline_severity="", episode_start=START, scores=facts, as_of=START + timedelta(days=2)
    ).inputs["severity"]
    assert item.assumed


@pytest.mark.parametrize(
    ("entry", "scores", "psychotic", "expected"),
    [
        ("severe", [], True, ("severe_psychotic", 5)),
        ("moderate", [], True, ("severe_psychotic", 5)),
        ("", [ScoreFacts("phq9", START, 12)], True, ("severe_psychotic", 5)),
        ("", [], True, ("severe_psychotic", 5)),  # known, not assumed
        ("severe", [], False, ("severe", 4)),
    ],
    ids=["severe-entry", "moderate-entry", "from-a-score", "no-other-input", "no-psychosis"],
)
def test_psychotic_features_give_the_severe_with_psychosis_category(
    entry, scores, psychotic, expected
):
    item = msm(
        baseline_severity=entry, episode_start=START, scores=scores, psychotic_features=psychotic
    ).inputs["severity"]
    assert (item.value, item.points) == expected
    assert not item.assumed
    assert ("psychotic features" in item.note) is psychotic


def test_the_clinicians_entry_wins_over_the_scores():
    facts = [ScoreFacts("phq9", START, 25)]
    item = msm(baseline_severity="mild", episode_start=START, scores=facts).inputs["severity"]
    assert (item.value, item.points) == ("mild", 2)


@pytest.mark.parametrize(
    ("episode_start", "scores"),
    [
        (START, []),  # no score at all
        (START, [ScoreFacts("phq9", START - timedelta(days=1), 25)]),  # before the episode
        (None, [ScoreFacts("phq9", START, 25)]),  # no episode start: no episode to read
    ],
    ids=["no-score", "only-before-the-onset", "no-onset"],
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
    [(1, 1), (2, 1), (3, 2), (4, 2), (5, 3), (6, 3), (7, 4), (10, 4), (11, 5), (30, 5)],
    ids=lambda value: str(value),
)
def test_failed_antidepressants(failures, points):
    item = msm(failed_antidepressants=failures).inputs["failed_antidepressants"]
    assert (item.value, item.points) == (failures, points)


@pytest.mark.parametrize(("used", "points"), [(False, 0), (True, 1)])
def test_augmentation_and_ect_score_one_each(used, points):
    assert msm(augmentation_used=used).inputs["augmentation"].points == points
    assert msm(ect_used=used).inputs["ect"].points == points


# --------------------------------------------------------------------------------------
# MSM total and bands
# --------------------------------------------------------------------------------------

BAND_CASES = [
    # (months, severity, failures, augmentation, ECT) -> (score, band)
    ((0, "subsyndromal", 1, False, False), (3, "mild")),
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
        episode_start=months_before(AS_OF, months),
        baseline_severity=severity,
        failed_antidepressants=failures,
        augmentation_used=augmentation,
        ect_used=ect,
    )
    assert (result.score, result.band) == expected
    assert not result.lower_bound


@pytest.mark.parametrize(
    ("score", "band"),
    [(3, "mild"), (6, "mild"), (7, "moderate"), (10, "moderate"), (11, "severe"), (15, "severe")],
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
    [
        ("SSRI", "SSRI"),
        ("SNRI", "SNRI"),
        ("TCA", "TCA"),
        ("Tetracyclic", "TCA"),
        ("MAOI", "MAOI"),
        ("RIMA", "RIMA"),
        ("NaSSA", "NaSSA"),
        ("NDRI", "NDRI"),
        ("SARI", "SARI"),
        ("Serotonin modulator", "Serotonin modulator"),
        ("Melatonergic", "Melatonergic"),
        ("NRI", "NRI"),
        (" SSRI ", "SSRI"),
    ],
    ids=lambda value: value.strip(),
)
def test_tetracyclics_join_the_tcas_and_every_other_mechanism_is_its_own_class(
    catalog_class, thase_rush
):
    assert staging.thase_rush_class(catalog_class) == thase_rush


STAGE_CASES = {
    "nothing-failed": ([], False, 0),
    "ect-alone": ([], True, 0),
    "one-ssri": (["SSRI"], False, 1),
    "ssri-then-ssri": (["SSRI", "SSRI"], False, 1),
    "one-ssri-and-ect": (["SSRI"], True, 1),
    "ndri-then-nassa": (["NDRI", "NaSSA"], False, 2),
    "nassa-then-sari": (["NaSSA", "SARI"], False, 2),
    "ssri-then-snri": (["SSRI", "SNRI"], False, 2),
    "ssri-then-rima": (["SSRI", "RIMA"], False, 2),
    "tca-second-class": (["SSRI", "TCA"], False, 2),
    "tca-after-two-classes": (["SSRI", "SNRI", "TCA"], False, 3),
    "tca-after-ndri-nassa": (["NDRI", "NaSSA", "TCA"], False, 3),
    "tetracyclic-after-two": (["SSRI", "SNRI", "Tetracyclic"], False, 3),
    "maoi-after-tca": (["SSRI", "SNRI", "TCA", "MAOI"], False, 4),
    "rima-is-not-the-maoi": (["SSRI", "SNRI", "TCA", "RIMA"], False, 3),
    "bilateral-ect-after-maoi": (["SSRI", "SNRI", "TCA", "MAOI"], True, 5),
    "maoi-made-stage-ii": (["SSRI", "TCA", "MAOI"], True, 3),
}


@pytest.mark.parametrize(("classes", "ect", "stage"), STAGE_CASES.values(), ids=STAGE_CASES.keys())
def test_thase_rush_stages(classes, ect, stage):
    assert staging.thase_rush_stage_number(classes, failed_bilateral_ect=ect) == stage
    assert staging.thase_rush_stage(classes, failed_bilateral_ect=ect) == staging.STAGE_NAMES[stage]


@pytest.mark.parametrize(
    ("kind", "placement", "outcome", "failed"),
    [
        ("ect", "bifrontal", "no_response", True),
        ("ect", "bitemporal", "partial_response", True),
        ("ect", "right_unilateral", "no_response", False),
        ("ect", "unknown", "no_response", False),
        ("ect", "", "no_response", False),
        ("ect", "bilateral, 12 sessions", "no_response", False),  # free text is never read
        ("ect", "bifrontal", "response", False),
        ("tms", "bifrontal", "no_response", False),
    ],
    ids=[
        "bifrontal",
        "bitemporal",
        "right-unilateral",
        "unknown",
        "blank",
        "free-text",
        "responded",
        "not-ect",
    ],
)
def test_a_failed_bilateral_ect_course_is_read_from_the_electrode_placement(
    kind, placement, outcome, failed
):
    assert staging.is_failed_bilateral_ect(kind, placement, outcome) is failed


# --------------------------------------------------------------------------------------
# From a TRD evaluation
# --------------------------------------------------------------------------------------

DRUG_CLASSES = {
    # name: (class, is_antidepressant, is_augmentation_agent)
    "sertraline": ("SSRI", True, False),
    "citalopram": ("SSRI", True, False),
    "venlafaxine": ("SNRI", True, False),
    "amitriptyline": ("TCA", True, False),
    "phenelzine": ("MAOI", True, False),
    "bupropion": ("NDRI", True, False),
    "mirtazapine": ("NaSSA", True, False),
    "lithium": ("Mood stabiliser", False, True),
    "lamotrigine": ("Anticonvulsant / mood stabiliser", False, True),
    "quetiapine": ("Antipsychotic (SGA)", False, True),
}
EPISODE = date(2023, 12, 1)


def failed_trial(index, name, outcome="no_response", start=None, days=60):
    drug_class, antidepressant, augmentation = DRUG_CLASSES[name]
    begin = start if start is not None else date(2024, 1, 1) + timedelta(days=70 * index)
    return trd.TrialFacts(
        id=index,
        drug=trd.DrugFacts(name, drug_class, antidepressant, Decimal("1"), augmentation),
        start_date=begin,
        end_date=begin + timedelta(days=days),
        dose_mg=Decimal("10"),
        adherence="good",
        outcome=outcome,
    )


def staged(trials, *, episode_start=EPISODE, as_of=AS_OF, **kwargs):
    evaluation = trd.evaluate(trials, as_of=as_of, episode_start=episode_start)
    return staging.stage(evaluation, episode_start=episode_start, **kwargs)


def ect(start, placement="bifrontal", outcome="no_response"):
    return TherapyFacts("ect", start, "", outcome, ect_placement=placement)


def test_stage_reads_failures_augmentation_and_ect_from_the_record():
    trials = [
        failed_trial(i, n)
        for i, n in enumerate(
            ["sertraline", "venlafaxine", "amitriptyline", "phenelzine", "lithium"]
        )
    ]

    result = staged(
        trials, baseline_severity="severe", therapies=[ect(date(2025, 3, 1), "bitemporal")]
    )

    assert result.thase_rush_stage == 5 and result.stage_name == "V"
    assert result.failed_classes == ("SSRI", "SNRI", "TCA", "MAOI")
    inputs = result.maudsley.inputs
    assert inputs["duration"].value == 18
    assert inputs["failed_antidepressants"].value == 4
    assert (
        inputs["failed_antidepressants"].note
        == "amitriptyline, phenelzine, sertraline, venlafaxine"
    )
    assert (
        inputs["augmentation"].value is True and inputs["augmentation"].note == "lithium (60 days)"
    )
    assert inputs["ect"].value is True
    assert result.maudsley.score == 2 + 4 + 2 + 1 + 1


@pytest.mark.parametrize(
    "trials",
    [
        [],
        [failed_trial(0, "sertraline", outcome="response")],
        [failed_trial(0, "sertraline", days=41)],  # not adequate
        [failed_trial(0, "lithium")],  # augmentation alone is no failed antidepressant
    ],
    ids=["no-trial", "a-responder", "too-short", "augmentation-only"],
)
def test_msm_is_not_staged_without_a_trial_counting_toward_trd(trials):
    result = staged(trials, therapies=[ect(date(2025, 1, 1))])
    assert result.maudsley is None
    assert result.maudsley_note == "not staged: no trial counts toward TRD yet"
    assert result.thase_rush_stage == 0 and result.failed_classes == ()


def test_one_counting_trial_is_staged():
    result = staged([failed_trial(0, "sertraline")])
    assert result.maudsley is not None and result.maudsley_note == ""
    assert result.maudsley.inputs["failed_antidepressants"].value == 1


@pytest.mark.parametrize(
    ("agent", "start", "days", "used"),
    [
        ("lithium", date(2025, 1, 1), 13, False),
        ("lithium", date(2025, 1, 1), 14, True),
        ("lamotrigine", date(2025, 1, 1), 14, True),
        ("quetiapine", date(2025, 1, 1), 1, False),  # one day of a low dose at night
        ("lithium", EPISODE - timedelta(days=30), 30, False),  # ended on the onset
        ("lithium", EPISODE - timedelta(days=30), 43, False),  # 13 days inside
        ("lithium", EPISODE - timedelta(days=30), 44, True),  # 14 days inside
        ("lithium", AS_OF - timedelta(days=13), 60, False),  # 13 days up to the as-of date
        ("lithium", AS_OF - timedelta(days=14), 60, True),
    ],
    ids=[
        "13-days",
        "14-days",
        "lamotrigine-14-days",
        "quetiapine-1-day",
        "before-episode",
        "13-days-inside-episode",
        "14-days-inside-episode",
        "13-days-to-as-of",
        "14-days-to-as-of",
    ],
)
def test_augmentation_needs_14_days_of_an_augmentation_agent_inside_the_episode(
    agent, start, days, used
):
    trials = [failed_trial(0, "sertraline"), failed_trial(1, agent, start=start, days=days)]
    item = staged(trials).maudsley.inputs["augmentation"]
    assert (item.value, item.points) == (used, int(used))


def test_an_augmentation_agent_short_of_14_days_is_named_in_the_note():
    trials = [
        failed_trial(0, "sertraline"),
        failed_trial(1, "lithium", start=date(2025, 1, 1), days=13),
    ]
    note = staged(trials).maudsley.inputs["augmentation"].note
    assert note == "lithium (13 days) in the episode: under the 14 days needed"


@pytest.mark.parametrize(
    ("start", "used"),
    [
        (EPISODE - timedelta(days=1), False),  # the previous episode
        (EPISODE, True),  # the onset itself
        (AS_OF, True),
        (AS_OF + timedelta(days=1), False),  # after the as-of date
    ],
    ids=["day-before-onset", "onset", "as-of", "after-as-of"],
)
def test_ect_counts_only_inside_the_current_episode(start, used):
    result = staged([failed_trial(0, "sertraline")], therapies=[ect(start, "right_unilateral")])
    assert result.maudsley.inputs["ect"].value is used


def test_without_an_onset_every_recorded_ect_and_augmentation_counts():
    trials = [
        failed_trial(0, "sertraline"),
        failed_trial(1, "lithium", start=date(2020, 1, 1), days=14),
    ]
    result = staged(trials, episode_start=None, therapies=[ect(date(2019, 1, 1))])
    inputs = result.maudsley.inputs
    assert inputs["augmentation"].value is True and inputs["ect"].value is True
    assert inputs["duration"].assumed and result.maudsley.lower_bound


FOUR_CLASSES = ["sertraline", "venlafaxine", "amitriptyline", "phenelzine"]


@pytest.mark.parametrize(
    ("names", "therapies", "stage_name"),
    [
        (["bupropion", "mirtazapine"], [], "II"),
        (["sertraline", "citalopram"], [], "I"),
        (["sertraline", "venlafaxine", "amitriptyline"], [], "III"),
        (FOUR_CLASSES, [], "IV"),
        (FOUR_CLASSES, [ect(date(2025, 3, 1), "bifrontal")], "V"),
        (FOUR_CLASSES, [ect(date(2025, 3, 1), "bitemporal")], "V"),
        (FOUR_CLASSES, [ect(date(2025, 3, 1), "right_unilateral")], "IV"),
        (FOUR_CLASSES, [ect(date(2025, 3, 1), "unknown")], "IV"),
        (FOUR_CLASSES, [ect(date(2025, 3, 1), "bifrontal", outcome="response")], "IV"),
        (FOUR_CLASSES, [ect(EPISODE - timedelta(days=1), "bifrontal")], "IV"),
        (FOUR_CLASSES, [TherapyFacts("ect", date(2025, 3, 1), "bilateral", "no_response")], "IV"),
    ],
    ids=[
        "ndri-then-nassa",
        "ssri-then-ssri",
        "tca-after-two-classes",
        "maoi",
        "bifrontal-ect",
        "bitemporal-ect",
        "right-unilateral-ect",
        "unknown-placement",
        "ect-responded",
        "ect-before-the-episode",
        "bilateral-in-free-text-only",
    ],
)
def test_thase_rush_stage_from_the_record(names, therapies, stage_name):
    trials = [failed_trial(i, n) for i, n in enumerate(names)]
    assert staged(trials, therapies=therapies).stage_name == stage_name


def test_ndri_then_nassa_failures_are_two_classes_while_trd_is_met():
    trials = [failed_trial(0, "bupropion"), failed_trial(1, "mirtazapine")]
    evaluation = trd.evaluate(trials, as_of=AS_OF, episode_start=EPISODE)
    result = staging.stage(evaluation, episode_start=EPISODE)
    assert evaluation.meets_trd
    assert result.failed_classes == ("NaSSA", "NDRI") and result.thase_rush_stage == 2


def test_therapies_after_the_as_of_date_do_not_count():
    result = staged(
        [failed_trial(i, n) for i, n in enumerate(FOUR_CLASSES)],
        therapies=[ect(AS_OF + timedelta(days=1))],
    )
    assert result.maudsley.inputs["ect"].value is False
    assert result.thase_rush_stage == 4


def test_the_page_says_not_staged_when_no_trial_counts_toward_trd():
    html = render_to_string("treatments/_staging.html", {"staging": staged([])})
    assert "Not staged: no trial counts toward TRD yet." in html
    assert 'id="msm-inputs"' not in html


def test_the_page_shows_the_msm_inputs_once_a_trial_counts():
    html = render_to_string(
        "treatments/_staging.html", {"staging": staged([failed_trial(0, "sertraline")])}
    )
    assert 'id="msm-inputs"' in html and "Not staged" not in html
    assert "Fekadu et al. 2009" in html
