"""The measured outcome of a trial from its scores: bands, thresholds and which scores count."""

from datetime import date, timedelta

import pytest

from treatments.measured import Score, classify, disagrees, measured_outcome

START = date(2024, 3, 1)
END = date(2024, 5, 1)
AS_OF = date(2024, 12, 31)


def score(scale, days_from_start, total):
    return Score(scale, START + timedelta(days=days_from_start), total)


def outcome_of(*scores, end=END, as_of=AS_OF):
    result = measured_outcome(scores, start=START, end=end, as_of=as_of)
    return None if result is None else result.outcome


@pytest.mark.parametrize(
    ("scale", "baseline", "end", "expected"),
    [
        # exactly 50 % → response (end above the remission threshold)
        ("hamd17", 20, 10, "response"),
        # 49.9 % → partial response
        ("hamd17", 1000, 501, "partial_response"),
        # exactly 25 % → partial response
        ("hamd17", 20, 15, "partial_response"),
        # 24.9 % → no response
        ("hamd17", 1000, 751, "no_response"),
        ("hamd17", 20, 24, "no_response"),  # worse
        ("hamd17", 20, 20, "no_response"),  # unchanged
        # remission edges: threshold met and ≥ 50 %
        ("hamd17", 20, 7, "remission"),
        ("hamd17", 20, 8, "response"),
        ("madrs", 30, 10, "remission"),
        ("madrs", 30, 11, "response"),
        ("phq9", 20, 4, "remission"),
        ("phq9", 20, 5, "response"),
        # under the threshold but less than 50 % lower: the % band, not remission
        ("phq9", 6, 4, "partial_response"),
        ("hamd17", 8, 7, "no_response"),
        # baseline 0: no reduction can be computed
        ("hamd17", 0, 0, None),
    ],
)
def test_it_classifies_the_reduction(scale, baseline, end, expected):
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
        start=START, end=END, as_of=AS_OF,
    )
    assert result.baseline.total == 20 and result.outcome == "response"


@pytest.mark.parametrize(
    ("end_day", "expected"),
    [(61, "response"), (62, None)],  # END is day 61
)
def test_a_score_after_the_end_is_ignored(end_day, expected):
    assert outcome_of(score("hamd17", 0, 20), score("hamd17", end_day, 10)) == expected


def test_the_last_score_up_to_the_end_is_the_end_score():
    assert outcome_of(
        score("hamd17", 0, 20), score("hamd17", 20, 10), score("hamd17", 60, 14),
        score("hamd17", 70, 2),
    ) == "partial_response"


def test_an_ongoing_trial_is_measured_up_to_the_as_of_date():
    scores = [score("madrs", 0, 30), score("madrs", 40, 25), score("madrs", 90, 12)]
    assert outcome_of(*scores, end=None, as_of=START + timedelta(days=50)) == "no_response"
    assert outcome_of(*scores, end=None, as_of=START + timedelta(days=90)) == "response"


def test_an_as_of_date_before_the_end_limits_the_scores():
    scores = [score("madrs", 0, 30), score("madrs", 10, 25), score("madrs", 50, 12)]
    assert outcome_of(*scores, as_of=START + timedelta(days=20)) == "no_response"


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


def test_it_prefers_hamd_then_madrs_then_phq9():
    hamd = [score("hamd17", 0, 20), score("hamd17", 50, 18)]  # no response
    madrs = [score("madrs", 0, 30), score("madrs", 50, 14)]  # response
    phq9 = [score("phq9", 0, 20), score("phq9", 50, 3)]  # remission
    assert measured_outcome(hamd + madrs + phq9, start=START, end=END, as_of=AS_OF).scale == "hamd17"
    assert outcome_of(*madrs, *phq9) == "response"
    assert outcome_of(*phq9) == "remission"


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
            [score("hamd17", 0, 20), score("hamd17", 50, {"response": 10, "remission": 5,
                                                           "partial_response": 14,
                                                           "no_response": 19}[measured])],
            start=START, end=END, as_of=AS_OF,
        )
        assert result.outcome == measured
    assert disagrees(recorded, result) is expected


def test_the_short_form_names_the_scale_and_the_change():
    result = measured_outcome(
        [score("madrs", 0, 30), score("madrs", 50, 10)], start=START, end=END, as_of=AS_OF
    )
    assert result.short == "MADRS 30 → 10 (66.7% lower)"
    assert result.label == "Remission"
