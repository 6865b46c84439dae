"""The measured outcome of a trial from its scores: bands, thresholds and which scores count."""

from datetime import date, timedelta

import pytest

from treatments.measured import (
    MIN_MEASURED_DAYS,
    NO_SCORES,
    TOO_EARLY,
    Score,
    classify,
    disagrees,
    measure,
    measured_outcome,
)

START = date(2024, 3, 1)
END = date(2024, 5, 1)
AS_OF = date(2024, 12, 31)


def score(scale, days_from_start, total):
    return Score(scale, START + timedelta(days=days_from_start), total)


def outcome_of(*scores, end=END, as_of=AS_OF):
    result = measured_outcome(scores, start=START, end=end, as_of=as_of)
    return None if result is None else result.outcome


CLASSIFY_CASES = [
    # (id, scale, baseline, end, expected)
    ("exactly_50_percent_is_response", "hamd17", 20, 10, "response"),
    ("49_9_percent_is_partial_response", "hamd17", 1000, 501, "partial_response"),
    ("exactly_25_percent_is_partial_response", "hamd17", 20, 15, "partial_response"),
    ("24_9_percent_is_no_response", "hamd17", 1000, 751, "no_response"),
    ("a_worse_score_is_no_response", "hamd17", 20, 24, "no_response"),
    ("an_unchanged_score_is_no_response", "hamd17", 20, 20, "no_response"),
    # Remission at each scale's threshold after a large drop, and just above it.
    ("hamd17_7_after_a_large_drop_is_remission", "hamd17", 20, 7, "remission"),
    ("hamd17_8_after_a_large_drop_is_response", "hamd17", 20, 8, "response"),
    ("madrs_10_after_a_large_drop_is_remission", "madrs", 30, 10, "remission"),
    ("madrs_11_after_a_large_drop_is_response", "madrs", 30, 11, "response"),
    ("phq9_4_after_a_large_drop_is_remission", "phq9", 20, 4, "remission"),
    ("phq9_5_after_a_large_drop_is_response", "phq9", 20, 5, "response"),
    # Remission is the end score alone: at the threshold after a drop under 50 %.
    ("phq9_7_to_4_is_remission", "phq9", 7, 4, "remission"),
    ("madrs_14_to_10_is_remission", "madrs", 14, 10, "remission"),
    ("hamd17_10_to_7_is_remission", "hamd17", 10, 7, "remission"),
    ("hamd17_8_to_7_is_remission", "hamd17", 8, 7, "remission"),
    # ... and just above the threshold it is the reduction's band.
    ("phq9_7_to_5_is_partial_response", "phq9", 7, 5, "partial_response"),
    ("madrs_14_to_11_is_no_response", "madrs", 14, 11, "no_response"),
    ("hamd17_10_to_8_is_no_response", "hamd17", 10, 8, "no_response"),
    # A baseline of 0: remission when the end meets the threshold, else no reduction.
    ("baseline_0_end_in_remission_is_remission", "hamd17", 0, 0, "remission"),
    ("baseline_0_end_above_the_threshold_has_no_outcome", "hamd17", 0, 8, None),
]


@pytest.mark.parametrize(
    ("scale", "baseline", "end", "expected"),
    [case[1:] for case in CLASSIFY_CASES],
    ids=[case[0] for case in CLASSIFY_CASES],
)
def test_it_classifies_the_end_score_and_the_reduction(scale, baseline, end, expected):
    assert classify(scale, baseline, end) == expected
    assert outcome_of(score(scale, 0, baseline), score(scale, 50, end)) == expected


@pytest.mark.parametrize(
    ("baseline_day", "expected"),
    [(0, "response"), (-14, "response"), (-15, None), (1, None)],
)
def test_the_baseline_is_within_14_days_before_the_start(baseline_day, expected):
    assert outcome_of(score("hamd17", baseline_day, 20), score("hamd17", 50, 10)) == expected


def test_the_last_score_before_the_start_is_the_baseline():
    result = measured_outcome(
        [score("hamd17", -10, 30), score("hamd17", -2, 20), score("hamd17", 50, 10)],
        start=START,
        end=END,
        as_of=AS_OF,
    )
    assert result.baseline.total == 20 and result.outcome == "response"


@pytest.mark.parametrize(
    ("end_day", "expected"),
    [(61, "response"), (62, None)],  # END is day 61
)
def test_a_score_after_the_end_is_ignored(end_day, expected):
    assert outcome_of(score("hamd17", 0, 20), score("hamd17", end_day, 10)) == expected


def test_the_last_score_up_to_the_end_is_the_end_score():
    assert (
        outcome_of(
            score("hamd17", 0, 20),
            score("hamd17", 20, 10),
            score("hamd17", 60, 14),
            score("hamd17", 70, 2),
        )
        == "partial_response"
    )


def test_an_ongoing_trial_is_measured_up_to_the_as_of_date():
    scores = [score("madrs", 0, 30), score("madrs", 40, 25), score("madrs", 90, 12)]
    assert outcome_of(*scores, end=None, as_of=START + timedelta(days=50)) == "no_response"
    assert outcome_of(*scores, end=None, as_of=START + timedelta(days=90)) == "response"


def test_an_as_of_date_before_the_end_limits_the_scores():
    scores = [score("madrs", 0, 30), score("madrs", 30, 25), score("madrs", 50, 12)]
    assert outcome_of(*scores, as_of=START + timedelta(days=40)) == "no_response"
    assert outcome_of(*scores) == "response"


TOO_EARLY_CASES = [
    # (id, end score's day of the trial, expected status, expected outcome)
    ("day_27_is_too_early", 27, TOO_EARLY, None),
    ("day_28_is_measured", 28, "measured", "response"),
    ("day_3_is_too_early_even_when_worse", 3, TOO_EARLY, None),
]


@pytest.mark.parametrize(
    ("end_day", "status", "expected"),
    [case[1:] for case in TOO_EARLY_CASES],
    ids=[case[0] for case in TOO_EARLY_CASES],
)
def test_no_measured_outcome_until_the_end_score_is_28_days_after_the_start(
    end_day, status, expected
):
    final = 10 if expected else 21
    result = measure(
        [score("hamd17", 0, 20), score("hamd17", end_day, final)], start=START, end=END, as_of=AS_OF
    )
    assert MIN_MEASURED_DAYS == 28
    assert result.status == status
    assert (result.outcome.outcome if result.outcome else None) == expected
    assert outcome_of(score("hamd17", 0, 20), score("hamd17", end_day, final)) == expected


def test_too_early_says_which_day_of_the_28_the_end_score_is():
    result = measure(
        [score("hamd17", -3, 20), score("hamd17", 3, 21)],
        start=START,
        end=None,
        as_of=START + timedelta(days=5),
    )
    assert result.status == TOO_EARLY and result.too_early
    assert result.day == 3
    assert result.explanation == "too early (day 3 of 28)"


def test_no_scores_is_told_apart_from_too_early():
    result = measure([score("hamd17", 0, 20)], start=START, end=END, as_of=AS_OF)
    assert result.status == NO_SCORES and not result.too_early
    assert result.outcome is None and result.day is None


def test_an_early_score_gives_way_to_a_later_one_on_the_same_scale():
    scores = [score("phq9", 0, 20), score("phq9", 10, 8), score("phq9", 30, 16)]
    assert outcome_of(*scores, as_of=START + timedelta(days=20)) is None  # day 10: too early
    assert outcome_of(*scores) == "no_response"  # day 30: 20 -> 16


@pytest.mark.parametrize(
    "scores",
    [
        [],
        [score("phq9", 0, 20)],  # a baseline only
        [score("phq9", 50, 10)],  # an end score only
        [score("phq9", -20, 20), score("phq9", 50, 10)],  # baseline too early
        [score("phq9", 0, 20), score("phq9", 0, 10)],  # end must be after the baseline
        [score("hamd17", 0, 20), score("madrs", 50, 10)],  # different scales do not pair
    ],
)
def test_without_a_baseline_and_an_end_score_there_is_no_measured_outcome(scores):
    assert outcome_of(*scores) is None


def test_on_the_same_end_day_it_prefers_hamd_then_madrs_then_phq9():
    hamd = [score("hamd17", 0, 20), score("hamd17", 50, 18)]  # no response
    madrs = [score("madrs", 0, 30), score("madrs", 50, 14)]  # response
    phq9 = [score("phq9", 0, 20), score("phq9", 50, 3)]  # remission
    assert (
        measured_outcome(hamd + madrs + phq9, start=START, end=END, as_of=AS_OF).scale == "hamd17"
    )
    assert outcome_of(*madrs, *phq9) == "response"
    assert outcome_of(*phq9) == "remission"


LATEST_CASES = [
    # (id, scores, expected scale)
    (
        "a_later_phq9_beats_an_earlier_hamd17",
        [
            score("hamd17", 0, 20),
            score("hamd17", 30, 18),
            score("phq9", 0, 20),
            score("phq9", 56, 9),
        ],
        "phq9",
    ),
    (
        "a_later_madrs_beats_an_earlier_hamd17",
        [
            score("hamd17", 0, 20),
            score("hamd17", 40, 18),
            score("madrs", 0, 30),
            score("madrs", 41, 14),
        ],
        "madrs",
    ),
    (
        "a_later_hamd17_beats_an_earlier_phq9",
        [
            score("phq9", 0, 20),
            score("phq9", 40, 3),
            score("hamd17", 0, 20),
            score("hamd17", 41, 18),
        ],
        "hamd17",
    ),
    (
        "a_later_end_score_without_a_baseline_does_not_compete",
        [score("hamd17", 0, 20), score("hamd17", 30, 18), score("phq9", 56, 9)],
        "hamd17",
    ),
]


@pytest.mark.parametrize(
    ("scores", "expected_scale"),
    [case[1:] for case in LATEST_CASES],
    ids=[case[0] for case in LATEST_CASES],
)
def test_the_scale_with_the_latest_end_score_is_used(scores, expected_scale):
    assert measured_outcome(scores, start=START, end=END, as_of=AS_OF).scale == expected_scale


def test_a_hamd17_end_score_on_day_7_does_not_beat_a_phq9_on_day_56():
    scores = [
        score("hamd17", 0, 20),
        score("hamd17", 7, 21),
        score("phq9", 0, 20),
        score("phq9", 56, 9),
    ]
    result = measure(scores, start=START, end=END, as_of=AS_OF)
    assert (result.outcome.scale, result.outcome.outcome) == ("phq9", "response")


def test_an_incomplete_preferred_scale_gives_way_to_a_complete_one():
    scores = [score("hamd17", 0, 20), score("phq9", 0, 20), score("phq9", 50, 9)]
    result = measured_outcome(scores, start=START, end=END, as_of=AS_OF)
    assert (result.scale, result.outcome) == ("phq9", "response")


def test_the_result_explains_itself():
    result = measured_outcome(
        [score("hamd17", 0, 24), score("hamd17", 50, 9)], start=START, end=END, as_of=AS_OF
    )
    assert result.reduction_percent == 62.5
    assert result.summary == "HAM-D-17 24 (2024-03-01) → 9 (2024-04-20): 62.5% reduction"


@pytest.mark.parametrize(
    ("recorded", "measured", "expected"),
    [
        ("no_response", "response", True),
        ("response", "remission", True),
        ("partial_response", "partial_response", False),
        ("ongoing", "response", False),
        ("unknown", "no_response", False),
        ("intolerance", "no_response", False),
        ("no_response", None, False),
    ],
)
def test_disagreement_is_only_between_response_categories(recorded, measured, expected):
    result = None
    if measured:
        result = measured_outcome(
            [
                score("hamd17", 0, 20),
                score(
                    "hamd17",
                    50,
                    {"response": 10, "remission": 5, "partial_response": 14, "no_response": 19}[
                        measured
                    ],
                ),
            ],
            start=START,
            end=END,
            as_of=AS_OF,
        )
        assert result.outcome == measured
    assert disagrees(recorded, result) is expected


def test_the_short_form_names_the_scale_and_the_change():
    result = measured_outcome(
        [score("madrs", 0, 30), score("madrs", 50, 10)], start=START, end=END, as_of=AS_OF
    )
    assert result.short == "MADRS 30 → 10 (66.7% lower)"
    assert result.label == "Remission"
