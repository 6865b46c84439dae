"""Black-box tests for the "two adequate trials" TRD rule in treatments.trd.

Pure Python: no database, no Django settings needed.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from treatments.trd import (
    COUNTING_OUTCOMES,
    MIN_ADEQUATE_DAYS,
    MIN_ADEQUATE_WEEKS,
    MIN_FAILED_TRIALS,
    DoseChange,
    DoseSegment,
    DrugFacts,
    TrdEvaluation,
    TrialEvaluation,
    TrialFacts,
    evaluate,
    evaluate_trial,
)

DAY0 = date(2024, 1, 1)
FAR_FUTURE = date(2030, 1, 1)


def day(n: int) -> date:
    return DAY0 + timedelta(days=n)


SERTRALINE = DrugFacts("sertraline", "SSRI", True, Decimal("50"))
VENLAFAXINE = DrugFacts("venlafaxine", "SNRI", True, Decimal("75"))
MIRTAZAPINE = DrugFacts("mirtazapine", "NaSSA", True, Decimal("15"))
AGOMELATINE = DrugFacts("agomelatine", "Melatonergic", True, None)
LITHIUM = DrugFacts("lithium", "Mood stabiliser", False, Decimal("400"), True)
VALPROATE = DrugFacts("valproate", "Mood stabiliser", False, Decimal("500"))
HALF_DOSE_DRUG = DrugFacts("halfdrug", "Other", True, Decimal("37.5"))
MICRO_DOSE_DRUG = DrugFacts("microdrug", "Other", True, Decimal("0.025"))


def trial(
    drug: DrugFacts = SERTRALINE,
    *,
    id: int | None = 1,
    start: int = 0,
    days: int | None = MIN_ADEQUATE_DAYS,
    dose: str = "50",
    changes: tuple[tuple[int, str], ...] = (),
    adherence: str = "good",
    outcome: str = "no_response",
) -> TrialFacts:
    """A trial starting on day(start) and lasting `days` days (None = still open).

    Dose changes are given as (day offset from DAY0, dose) pairs.
    """
    return TrialFacts(
        id=id,
        drug=drug,
        start_date=day(start),
        end_date=None if days is None else day(start + days),
        dose_mg=Decimal(dose),
        dose_changes=tuple(DoseChange(day(n), Decimal(mg)) for n, mg in changes),
        adherence=adherence,
        outcome=outcome,
    )


# --------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------


def test_the_thresholds_are_six_weeks_and_two_different_drugs() -> None:
    assert MIN_ADEQUATE_WEEKS == 6
    assert MIN_ADEQUATE_DAYS == 42
    assert MIN_FAILED_TRIALS == 2
    assert COUNTING_OUTCOMES == frozenset({"no_response", "partial_response"})


# --------------------------------------------------------------------------------------
# Rule 1 + 2: how long a trial runs and how many days it spends at an adequate dose
# --------------------------------------------------------------------------------------

DAYS_CASES = [
    # (id, trial, as_of, expected days at adequate dose, expected adequate)
    ("exactly_42_days_is_adequate", trial(days=42), FAR_FUTURE, 42, True),
    ("41_days_is_one_day_short", trial(days=41), FAR_FUTURE, 41, False),
    ("43_days_is_adequate", trial(days=43), FAR_FUTURE, 43, True),
    ("a_dose_above_the_minimum_is_adequate", trial(dose="200"), FAR_FUTURE, 42, True),
    (
        "a_dose_at_a_decimal_minimum_is_adequate",
        trial(HALF_DOSE_DRUG, dose="37.5"),
        FAR_FUTURE,
        42,
        True,
    ),
    (
        "a_dose_just_below_a_decimal_minimum_is_not",
        trial(HALF_DOSE_DRUG, dose="37.49"),
        FAR_FUTURE,
        0,
        False,
    ),
    ("a_dose_below_the_minimum_gives_no_days", trial(dose="25"), FAR_FUTURE, 0, False),
    (
        "titration_25mg_20d_then_50mg_42d_gives_42",
        trial(days=62, dose="25", changes=((20, "50"),)),
        FAR_FUTURE,
        42,
        True,
    ),
    (
        "titration_25mg_21d_then_50mg_41d_gives_41",
        trial(days=62, dose="25", changes=((21, "50"),)),
        FAR_FUTURE,
        41,
        False,
    ),
    (
        "down_titration_50mg_42d_then_25mg_20d_gives_42",
        trial(days=62, dose="50", changes=((42, "25"),)),
        FAR_FUTURE,
        42,
        True,
    ),
    (
        "down_titration_50mg_30d_then_25mg_32d_gives_30",
        trial(days=62, dose="50", changes=((30, "25"),)),
        FAR_FUTURE,
        30,
        False,
    ),
    (
        "adequate_stretches_either_side_of_a_dip_add_up",
        trial(days=70, dose="50", changes=((21, "25"), (40, "100"))),
        FAR_FUTURE,
        21 + 30,
        True,
    ),
    (
        "dose_changes_are_sorted_by_date",
        trial(days=70, dose="25", changes=((50, "25"), (20, "50"))),
        FAR_FUTURE,
        30,
        False,
    ),
    (
        "a_change_on_the_start_date_replaces_a_low_starting_dose",
        trial(dose="25", changes=((0, "50"),)),
        FAR_FUTURE,
        42,
        True,
    ),
    (
        "a_change_on_the_start_date_replaces_a_high_starting_dose",
        trial(dose="50", changes=((0, "25"),)),
        FAR_FUTURE,
        0,
        False,
    ),
    (
        "a_change_on_the_end_date_contributes_no_days",
        trial(days=41, dose="50", changes=((41, "25"),)),
        FAR_FUTURE,
        41,
        False,
    ),
    (
        "a_rise_on_the_end_date_contributes_no_days",
        trial(days=42, dose="25", changes=((42, "50"),)),
        FAR_FUTURE,
        0,
        False,
    ),
    (
        "a_change_after_the_end_contributes_no_days",
        trial(days=42, dose="50", changes=((60, "25"),)),
        FAR_FUTURE,
        42,
        True,
    ),
    (
        "a_rise_after_the_end_contributes_no_days",
        trial(days=42, dose="25", changes=((60, "50"),)),
        FAR_FUTURE,
        0,
        False,
    ),
    ("an_open_trial_runs_to_as_of_42_days", trial(days=None), day(42), 42, True),
    ("an_open_trial_runs_to_as_of_41_days", trial(days=None), day(41), 41, False),
    (
        "an_open_trial_ignores_changes_after_as_of",
        trial(days=None, dose="25", changes=((20, "50"), (70, "100"))),
        day(62),
        42,
        True,
    ),
    ("a_trial_starting_on_as_of_has_no_days", trial(days=None), day(0), 0, False),
    # Clause (a): an ended trial runs to the earlier of its end date and the as-of date.
    ("clause_a_an_ended_trial_is_cut_at_an_earlier_as_of", trial(days=42), day(10), 10, False),
    ("clause_a_as_of_before_the_end_41_days", trial(days=60), day(41), 41, False),
    ("clause_a_as_of_before_the_end_42_days", trial(days=60), day(42), 42, True),
    (
        "clause_a_a_rise_dated_after_as_of_gives_no_days",
        trial(days=80, dose="25", changes=((30, "50"),)),
        day(29),
        0,
        False,
    ),
    # Clause (c): a dose change dated before the start is ignored.
    (
        "clause_c_a_rise_dated_before_the_start_is_ignored",
        trial(start=10, dose="25", changes=((5, "50"),)),
        FAR_FUTURE,
        0,
        False,
    ),
    (
        "clause_c_a_fall_dated_before_the_start_is_ignored",
        trial(start=10, dose="50", changes=((5, "25"),)),
        FAR_FUTURE,
        42,
        True,
    ),
    (
        "clause_c_the_starting_dose_stands_until_the_first_change_on_or_after_the_start",
        trial(start=10, days=62, dose="25", changes=((5, "100"), (30, "50"))),
        FAR_FUTURE,
        42,
        True,
    ),
    ("a_drug_without_a_minimum_has_no_adequate_days", trial(AGOMELATINE), FAR_FUTURE, 0, False),
]


@pytest.mark.parametrize(
    ("facts", "as_of", "expected_days", "expected_adequate"),
    [case[1:] for case in DAYS_CASES],
    ids=[case[0] for case in DAYS_CASES],
)
def test_it_counts_days_at_an_adequate_dose(
    facts: TrialFacts, as_of: date, expected_days: int, expected_adequate: bool
) -> None:
    result = evaluate_trial(facts, as_of=as_of)
    assert isinstance(result, TrialEvaluation)
    assert result.trial is facts
    assert result.days_at_adequate_dose == expected_days
    assert result.adequate is expected_adequate
    assert result.counts_toward_trd is expected_adequate  # everything else counts here
    assert (result.reasons == ()) is expected_adequate


END_CASES = [
    # (id, trial, as_of, expected end)
    ("an_ended_trial_runs_to_its_end_date", trial(days=50), FAR_FUTURE, day(50)),
    ("clause_a_an_ended_trial_ending_after_as_of_runs_to_as_of", trial(days=50), day(10), day(10)),
    ("clause_a_an_ended_trial_ending_on_as_of_runs_to_it", trial(days=50), day(50), day(50)),
    ("an_open_trial_runs_to_as_of", trial(days=None), day(30), day(30)),
    ("a_trial_starting_on_as_of_runs_to_as_of", trial(days=None, start=5), day(5), day(5)),
]


@pytest.mark.parametrize(
    ("facts", "as_of", "expected_end"),
    [case[1:] for case in END_CASES],
    ids=[case[0] for case in END_CASES],
)
def test_it_reports_the_date_a_trial_runs_to(
    facts: TrialFacts, as_of: date, expected_end: date
) -> None:
    assert evaluate_trial(facts, as_of=as_of).end == expected_end


SEGMENT_CASES = [
    # (id, trial, as_of, expected segments as (start, end, dose, adequate))
    (
        "a_constant_dose_is_one_segment",
        trial(days=42, dose="50"),
        FAR_FUTURE,
        [(0, 42, "50", True)],
    ),
    (
        "titration_splits_into_segments_marked_by_adequacy",
        trial(days=62, dose="25", changes=((20, "50"),)),
        FAR_FUTURE,
        [(0, 20, "25", False), (20, 62, "50", True)],
    ),
    (
        "down_titration_splits_into_segments",
        trial(days=62, dose="50", changes=((42, "25"),)),
        FAR_FUTURE,
        [(0, 42, "50", True), (42, 62, "25", False)],
    ),
    (
        "a_start_date_change_leaves_no_zero_length_segment",
        trial(days=42, dose="25", changes=((0, "50"),)),
        FAR_FUTURE,
        [(0, 42, "50", True)],
    ),
    (
        "two_changes_on_one_day_leave_no_zero_length_segment",
        trial(days=42, dose="25", changes=((10, "50"), (10, "100"))),
        FAR_FUTURE,
        [(0, 10, "25", False), (10, 42, "100", True)],
    ),
    (
        "changes_on_and_after_the_end_are_dropped",
        trial(days=42, dose="50", changes=((42, "25"), (50, "100"))),
        FAR_FUTURE,
        [(0, 42, "50", True)],
    ),
    (
        "an_open_trial_is_cut_at_as_of",
        trial(days=None, dose="25", changes=((10, "50"),)),
        day(30),
        [(0, 10, "25", False), (10, 30, "50", True)],
    ),
    ("a_trial_starting_on_as_of_has_no_segments", trial(days=None), day(0), []),
    (
        "clause_a_an_ended_trial_is_cut_at_an_earlier_as_of",
        trial(days=62, dose="25", changes=((10, "50"),)),
        day(30),
        [(0, 10, "25", False), (10, 30, "50", True)],
    ),
    (
        "clause_c_a_change_before_the_start_leaves_the_starting_dose",
        trial(start=10, days=42, dose="25", changes=((3, "100"), (20, "50"))),
        FAR_FUTURE,
        [(10, 20, "25", False), (20, 52, "50", True)],
    ),
    (
        "a_drug_without_a_minimum_has_no_adequate_segments",
        trial(AGOMELATINE, dose="25"),
        FAR_FUTURE,
        [(0, 42, "25", False)],
    ),
]


@pytest.mark.parametrize(
    ("facts", "as_of", "expected"),
    [case[1:] for case in SEGMENT_CASES],
    ids=[case[0] for case in SEGMENT_CASES],
)
def test_it_splits_a_trial_into_constant_dose_segments(
    facts: TrialFacts, as_of: date, expected: list[tuple[int, int, str, bool]]
) -> None:
    segments = evaluate_trial(facts, as_of=as_of).segments
    assert isinstance(segments, tuple)
    assert segments == tuple(
        DoseSegment(day(start), day(end), Decimal(dose), adequate)
        for start, end, dose, adequate in expected
    )


# --------------------------------------------------------------------------------------
# Rule 3: adherence and antidepressant status
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("adherence", "expected_adequate"),
    [("good", True), ("partial", True), ("unknown", True), ("poor", False)],
    ids=["good", "partial", "unknown", "poor"],
)
def test_only_poor_adherence_makes_a_trial_inadequate(
    adherence: str, expected_adequate: bool
) -> None:
    result = evaluate_trial(trial(adherence=adherence), as_of=FAR_FUTURE)
    assert result.days_at_adequate_dose == 42
    assert result.adequate is expected_adequate
    assert result.counts_toward_trd is expected_adequate
    expected_reasons = () if expected_adequate else ("adherence recorded as poor",)
    assert result.reasons == expected_reasons


@pytest.mark.parametrize(
    ("drug", "expected_reason"),
    [
        (LITHIUM, "lithium is an augmentation agent, not an antidepressant"),
        (VALPROATE, "valproate is not an antidepressant"),
    ],
    ids=["augmentation_agent", "other_non_antidepressant"],
)
def test_a_non_antidepressant_is_never_adequate_and_gets_only_that_reason(
    drug: DrugFacts, expected_reason: str
) -> None:
    # Below its minimum, too short, poor adherence and a non-counting outcome, before
    # the episode: the only reason given is that it is not an antidepressant.
    bad = trial(drug, days=10, dose="1", adherence="poor", outcome="response")
    result = evaluate_trial(bad, as_of=FAR_FUTURE, episode_start=day(100))
    assert result.adequate is False
    assert result.counts_toward_trd is False
    assert result.reasons == (expected_reason,)


@pytest.mark.parametrize(
    "drug",
    [LITHIUM, VALPROATE],
    ids=["augmentation_agent", "other_non_antidepressant"],
)
def test_a_non_antidepressant_at_full_dose_for_six_weeks_still_does_not_count(
    drug: DrugFacts,
) -> None:
    result = evaluate_trial(trial(drug, days=60, dose="1000"), as_of=FAR_FUTURE)
    assert result.days_at_adequate_dose == 60
    assert result.adequate is False
    assert result.counts_toward_trd is False
    assert len(result.reasons) == 1


# --------------------------------------------------------------------------------------
# Rule 4: outcome and episode
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "expected_reasons"),
    [
        ("no_response", ()),
        ("partial_response", ()),
        ("response", ("outcome: response",)),
        ("remission", ("outcome: remission",)),
        ("intolerance", ("outcome: intolerance",)),
        ("ongoing", ("outcome: ongoing",)),
        ("unknown", ("outcome: unknown",)),
    ],
    ids=[
        "no_response",
        "partial_response",
        "response",
        "remission",
        "intolerance",
        "ongoing",
        "unknown",
    ],
)
def test_only_no_or_partial_response_counts(
    outcome: str, expected_reasons: tuple[str, ...]
) -> None:
    result = evaluate_trial(trial(outcome=outcome), as_of=FAR_FUTURE)
    assert result.adequate is True  # the outcome does not affect adequacy
    assert result.counts_toward_trd is (expected_reasons == ())
    assert result.reasons == expected_reasons


# Clause (b): at least 42 days at an adequate dose on or after the episode's onset.
EPISODE_CASES = [
    # (id, trial, as_of, episode_start, expected days in the episode, expected reasons)
    ("no_episode_start_considers_every_trial", trial(days=42), FAR_FUTURE, None, 42, ()),
    ("episode_began_on_the_start_date_counts", trial(days=42), FAR_FUTURE, day(0), 42, ()),
    (
        "episode_began_before_the_start_counts",
        trial(start=10, days=42),
        FAR_FUTURE,
        day(0),
        42,
        (),
    ),
    ("42_days_inside_the_episode_count", trial(days=60), FAR_FUTURE, day(18), 42, ()),
    (
        "41_days_inside_the_episode_do_not_count",
        trial(days=60),
        FAR_FUTURE,
        day(19),
        41,
        (
            "only 41 of the 42 required days at an adequate dose fell in the current episode "
            "(from 2024-01-20)",
        ),
    ),
    (
        "one_day_inside_the_episode_does_not_count",
        trial(days=42),
        FAR_FUTURE,
        day(41),
        1,
        (
            "only 1 of the 42 required days at an adequate dose fell in the current episode "
            "(from 2024-02-11)",
        ),
    ),
    (
        "a_trial_ending_on_the_episodes_first_day_has_no_day_in_it",
        trial(days=42),
        FAR_FUTURE,
        day(42),
        0,
        ("before the current episode (ended 2024-02-12, episode began 2024-02-12)",),
    ),
    (
        "a_trial_ending_before_the_episode_does_not_count",
        trial(days=42),
        FAR_FUTURE,
        day(43),
        0,
        ("before the current episode (ended 2024-02-12, episode began 2024-02-13)",),
    ),
    (
        "only_days_at_an_adequate_dose_inside_the_episode_count",
        trial(days=80, dose="50", changes=((50, "25"),)),
        FAR_FUTURE,
        day(10),
        40,
        (
            "only 40 of the 42 required days at an adequate dose fell in the current episode "
            "(from 2024-01-11)",
        ),
    ),
    (
        "a_rise_to_an_adequate_dose_inside_the_episode_counts_from_the_rise",
        trial(days=80, dose="25", changes=((38, "50"),)),
        FAR_FUTURE,
        day(10),
        42,
        (),
    ),
    ("open_trial_with_42_days_in_the_episode_counts", trial(days=None), day(60), day(18), 42, ()),
    (
        "open_trial_with_41_days_in_the_episode_does_not_count_yet",
        trial(days=None),
        day(60),
        day(19),
        41,
        (
            "only 41 of the 42 required days at an adequate dose fell in the current episode "
            "(from 2024-01-20)",
        ),
    ),
    (
        "clause_d_open_trial_with_episode_on_as_of_is_ongoing_not_ended",
        trial(days=None),
        day(60),
        day(60),
        0,
        ("before the current episode (ongoing on 2024-03-01, episode began 2024-03-01)",),
    ),
    (
        "clause_d_open_trial_with_episode_after_as_of_is_ongoing_not_ended",
        trial(days=None),
        day(60),
        day(61),
        0,
        ("before the current episode (ongoing on 2024-03-01, episode began 2024-03-02)",),
    ),
    (
        "clause_a_an_ended_trial_is_counted_in_the_episode_only_up_to_as_of",
        trial(days=100),
        day(60),
        day(19),
        41,
        (
            "only 41 of the 42 required days at an adequate dose fell in the current episode "
            "(from 2024-01-20)",
        ),
    ),
    (
        "clause_a_and_d_a_trial_ending_after_as_of_is_ongoing_as_of_that_date",
        trial(days=100),
        day(60),
        day(70),
        0,
        ("before the current episode (ongoing on 2024-03-01, episode began 2024-03-11)",),
    ),
]


@pytest.mark.parametrize(
    ("facts", "as_of", "episode_start", "expected_days", "expected_reasons"),
    [case[1:] for case in EPISODE_CASES],
    ids=[case[0] for case in EPISODE_CASES],
)
def test_clause_b_a_trial_counts_with_42_adequate_days_in_the_current_episode(
    facts: TrialFacts,
    as_of: date,
    episode_start: date | None,
    expected_days: int,
    expected_reasons: tuple[str, ...],
) -> None:
    result = evaluate_trial(facts, as_of=as_of, episode_start=episode_start)
    assert result.adequate is True  # the episode does not affect adequacy
    assert result.days_in_episode == expected_days
    assert result.counts_toward_trd is (expected_reasons == ())
    assert result.reasons == expected_reasons


def test_the_episode_reason_uses_iso_dates() -> None:
    facts = TrialFacts(
        id=1,
        drug=SERTRALINE,
        start_date=date(2023, 1, 1),
        end_date=date(2023, 4, 1),
        dose_mg=Decimal("100"),
        adherence="good",
        outcome="no_response",
    )
    result = evaluate_trial(facts, as_of=date(2024, 6, 1), episode_start=date(2024, 1, 10))
    assert result.reasons == (
        "before the current episode (ended 2023-04-01, episode began 2024-01-10)",
    )


ONGOING_CASES = [
    # (id, trial, as_of, expected ongoing)
    ("an_open_trial_is_ongoing", trial(days=None), day(60), True),
    ("a_trial_ending_after_as_of_is_ongoing_as_of_that_date", trial(days=100), day(60), True),
    ("a_trial_ending_on_as_of_has_ended", trial(days=60), day(60), False),
    ("a_trial_ending_before_as_of_has_ended", trial(days=42), day(60), False),
]


@pytest.mark.parametrize(
    ("facts", "as_of", "expected"),
    [case[1:] for case in ONGOING_CASES],
    ids=[case[0] for case in ONGOING_CASES],
)
def test_clause_d_an_ongoing_trials_episode_reason_never_says_ended(
    facts: TrialFacts, as_of: date, expected: bool
) -> None:
    result = evaluate_trial(facts, as_of=as_of, episode_start=as_of + timedelta(days=5))
    assert result.ongoing is expected
    (reason,) = result.reasons
    assert ("ongoing on" in reason) is expected
    assert ("ended" in reason) is not expected


def test_without_an_episode_start_every_adequate_day_is_in_the_episode() -> None:
    result = evaluate_trial(trial(days=60, dose="25", changes=((10, "50"),)), as_of=FAR_FUTURE)
    assert result.days_in_episode == result.days_at_adequate_dose == 50


# --------------------------------------------------------------------------------------
# Rule 6: reasons, their wording, order and number formatting
# --------------------------------------------------------------------------------------

REASON_CASES = [
    # (id, trial, as_of, episode_start, expected reasons)
    ("a_counting_trial_has_no_reasons", trial(), FAR_FUTURE, None, ()),
    (
        "dose_below_the_minimum",
        trial(dose="25"),
        FAR_FUTURE,
        None,
        ("dose 25 mg/day is below the adequate 50 mg/day for sertraline",),
    ),
    (
        "the_highest_dose_taken_is_reported",
        trial(days=60, dose="25", changes=((20, "37.5"), (40, "12.5"))),
        FAR_FUTURE,
        None,
        ("dose 37.5 mg/day is below the adequate 50 mg/day for sertraline",),
    ),
    (
        "a_higher_dose_after_the_end_is_not_reported",
        trial(days=42, dose="25", changes=((42, "100"), (50, "200"))),
        FAR_FUTURE,
        None,
        ("dose 25 mg/day is below the adequate 50 mg/day for sertraline",),
    ),
    (
        "a_higher_dose_after_as_of_is_not_reported_for_an_open_trial",
        trial(days=None, dose="25", changes=((70, "100"),)),
        day(60),
        None,
        ("dose 25 mg/day is below the adequate 50 mg/day for sertraline",),
    ),
    (
        "a_start_date_change_is_the_dose_taken",
        trial(dose="100", changes=((0, "25"),)),
        FAR_FUTURE,
        None,
        ("dose 25 mg/day is below the adequate 50 mg/day for sertraline",),
    ),
    (
        "a_decimal_minimum_is_formatted_without_trailing_zeros",
        trial(HALF_DOSE_DRUG, dose="25.00"),
        FAR_FUTURE,
        None,
        ("dose 25 mg/day is below the adequate 37.5 mg/day for halfdrug",),
    ),
    (
        "a_decimal_dose_is_formatted_without_trailing_zeros",
        trial(dose="37.50"),
        FAR_FUTURE,
        None,
        ("dose 37.5 mg/day is below the adequate 50 mg/day for sertraline",),
    ),
    (
        "a_tiny_dose_is_formatted_as_a_plain_decimal",
        trial(MICRO_DOSE_DRUG, dose="0.0125"),
        FAR_FUTURE,
        None,
        ("dose 0.0125 mg/day is below the adequate 0.025 mg/day for microdrug",),
    ),
    (
        "a_round_hundred_is_not_written_as_an_exponent",
        trial(DrugFacts("bigdrug", "Other", True, Decimal("150")), dose="100.0"),
        FAR_FUTURE,
        None,
        ("dose 100 mg/day is below the adequate 150 mg/day for bigdrug",),
    ),
    (
        "too_few_days_at_an_adequate_dose",
        trial(days=28),
        FAR_FUTURE,
        None,
        ("only 28 of the 42 required days at an adequate dose",),
    ),
    (
        "too_few_days_after_reaching_the_minimum_late",
        trial(days=60, dose="25", changes=((40, "50"),)),
        FAR_FUTURE,
        None,
        ("only 20 of the 42 required days at an adequate dose",),
    ),
    (
        "too_few_days_after_down_titrating",
        trial(days=60, dose="50", changes=((10, "25"),)),
        FAR_FUTURE,
        None,
        ("only 10 of the 42 required days at an adequate dose",),
    ),
    (
        "a_trial_starting_on_as_of_at_a_full_dose_has_0_days",
        trial(days=None, dose="50"),
        day(0),
        None,
        ("only 0 of the 42 required days at an adequate dose",),
    ),
    (
        "a_trial_starting_on_as_of_below_the_minimum_reports_its_dose",
        trial(days=None, dose="25"),
        day(0),
        None,
        ("dose 25 mg/day is below the adequate 50 mg/day for sertraline",),
    ),
    (
        "a_trial_starting_on_as_of_reports_a_start_date_change",
        trial(days=None, dose="100", changes=((0, "25"),)),
        day(0),
        None,
        ("dose 25 mg/day is below the adequate 50 mg/day for sertraline",),
    ),
    (
        "poor_adherence",
        trial(adherence="poor"),
        FAR_FUTURE,
        None,
        ("adherence recorded as poor",),
    ),
    (
        "a_non_counting_outcome_with_underscores_replaced",
        trial(outcome="some_other_value"),
        FAR_FUTURE,
        None,
        ("outcome: some other value",),
    ),
    (
        "all_reasons_in_order_with_a_low_dose",
        trial(days=20, dose="25", adherence="poor", outcome="response"),
        FAR_FUTURE,
        day(30),
        (
            "dose 25 mg/day is below the adequate 50 mg/day for sertraline",
            "adherence recorded as poor",
            "outcome: response",
            "before the current episode (ended 2024-01-21, episode began 2024-01-31)",
        ),
    ),
    (
        "all_reasons_in_order_with_too_few_days",
        trial(days=28, dose="50", adherence="poor", outcome="intolerance"),
        FAR_FUTURE,
        day(30),
        (
            "only 28 of the 42 required days at an adequate dose",
            "adherence recorded as poor",
            "outcome: intolerance",
            "before the current episode (ended 2024-01-29, episode began 2024-01-31)",
        ),
    ),
    (
        "an_adequate_trial_that_responded_before_the_episode_gets_both_reasons",
        trial(days=42, outcome="remission"),
        FAR_FUTURE,
        day(100),
        (
            "outcome: remission",
            "before the current episode (ended 2024-02-12, episode began 2024-04-10)",
        ),
    ),
]


@pytest.mark.parametrize(
    ("facts", "as_of", "episode_start", "expected_reasons"),
    [case[1:] for case in REASON_CASES],
    ids=[case[0] for case in REASON_CASES],
)
def test_it_explains_every_reason_a_trial_does_not_count(
    facts: TrialFacts,
    as_of: date,
    episode_start: date | None,
    expected_reasons: tuple[str, ...],
) -> None:
    result = evaluate_trial(facts, as_of=as_of, episode_start=episode_start)
    assert result.reasons == expected_reasons
    assert result.counts_toward_trd is (expected_reasons == ())


def test_a_drug_without_a_minimum_dose_gets_one_dose_reason_and_does_not_count() -> None:
    result = evaluate_trial(trial(AGOMELATINE, days=60, dose="25"), as_of=FAR_FUTURE)
    assert result.days_at_adequate_dose == 0
    assert result.adequate is False
    assert result.counts_toward_trd is False
    assert len(result.reasons) == 1
    assert "agomelatine" in result.reasons[0]


# --------------------------------------------------------------------------------------
# Rule 5 + summary: the patient-level result
# --------------------------------------------------------------------------------------

PATIENT_CASES = [
    # (id, trials, as_of, episode_start, meets, count, counting drugs)
    ("no_trials", [], FAR_FUTURE, None, False, 0, ()),
    ("one_failed_trial", [trial(SERTRALINE, id=1)], FAR_FUTURE, None, False, 1, ("sertraline",)),
    (
        "the_same_drug_twice_counts_once",
        [trial(SERTRALINE, id=1), trial(SERTRALINE, id=2, start=100)],
        FAR_FUTURE,
        None,
        False,
        1,
        ("sertraline",),
    ),
    (
        "two_different_drugs_meet_trd",
        [trial(VENLAFAXINE, id=2, start=100, dose="150"), trial(SERTRALINE, id=1)],
        FAR_FUTURE,
        None,
        True,
        2,
        ("sertraline", "venlafaxine"),
    ),
    (
        "partial_response_counts_like_no_response",
        [
            trial(SERTRALINE, id=1, outcome="partial_response"),
            trial(VENLAFAXINE, id=2, start=100, dose="75", outcome="no_response"),
        ],
        FAR_FUTURE,
        None,
        True,
        2,
        ("sertraline", "venlafaxine"),
    ),
    (
        "three_different_drugs_count_three",
        [
            trial(SERTRALINE, id=1),
            trial(VENLAFAXINE, id=2, start=100, dose="150"),
            trial(MIRTAZAPINE, id=3, start=200, dose="30"),
            trial(SERTRALINE, id=4, start=300, dose="100"),
        ],
        FAR_FUTURE,
        None,
        True,
        3,
        ("mirtazapine", "sertraline", "venlafaxine"),
    ),
    (
        "a_non_counting_trial_of_a_second_drug_does_not_meet_trd",
        [trial(SERTRALINE, id=1), trial(VENLAFAXINE, id=2, start=100, dose="37.5")],
        FAR_FUTURE,
        None,
        False,
        1,
        ("sertraline",),
    ),
    (
        "a_drug_counts_if_any_of_its_trials_counts",
        [
            trial(SERTRALINE, id=1, dose="25"),
            trial(SERTRALINE, id=2, start=100),
            trial(VENLAFAXINE, id=3, start=200, dose="75"),
        ],
        FAR_FUTURE,
        None,
        True,
        2,
        ("sertraline", "venlafaxine"),
    ),
    (
        "augmentation_does_not_make_a_second_drug",
        [trial(SERTRALINE, id=1), trial(LITHIUM, id=2, start=50, days=60, dose="800")],
        FAR_FUTURE,
        None,
        False,
        1,
        ("sertraline",),
    ),
    (
        "a_trial_starting_after_as_of_is_ignored",
        [trial(SERTRALINE, id=1), trial(VENLAFAXINE, id=2, start=100, dose="150")],
        day(99),
        None,
        False,
        1,
        ("sertraline",),
    ),
    (
        "a_trial_before_the_episode_does_not_count",
        [trial(SERTRALINE, id=1), trial(VENLAFAXINE, id=2, start=100, dose="150")],
        FAR_FUTURE,
        day(43),
        False,
        1,
        ("venlafaxine",),
    ),
    (
        "clause_b_a_trial_ending_on_the_episode_start_does_not_count",
        [trial(SERTRALINE, id=1), trial(VENLAFAXINE, id=2, start=100, dose="150")],
        FAR_FUTURE,
        day(42),
        False,
        1,
        ("venlafaxine",),
    ),
    (
        "clause_b_a_trial_with_42_days_in_the_episode_counts",
        [trial(SERTRALINE, id=1, days=60), trial(VENLAFAXINE, id=2, start=100, dose="150")],
        FAR_FUTURE,
        day(18),
        True,
        2,
        ("sertraline", "venlafaxine"),
    ),
    (
        "clause_b_a_trial_with_41_days_in_the_episode_does_not_count",
        [trial(SERTRALINE, id=1, days=60), trial(VENLAFAXINE, id=2, start=100, dose="150")],
        FAR_FUTURE,
        day(19),
        False,
        1,
        ("venlafaxine",),
    ),
    (
        "clause_a_an_ended_trial_at_41_days_on_as_of_does_not_count_yet",
        [trial(SERTRALINE, id=1), trial(VENLAFAXINE, id=2, start=100, days=60, dose="150")],
        day(141),
        None,
        False,
        1,
        ("sertraline",),
    ),
    (
        "clause_a_an_ended_trial_at_42_days_on_as_of_counts",
        [trial(SERTRALINE, id=1), trial(VENLAFAXINE, id=2, start=100, days=60, dose="150")],
        day(142),
        None,
        True,
        2,
        ("sertraline", "venlafaxine"),
    ),
    (
        "an_open_trial_counts_once_it_reaches_42_days",
        [trial(SERTRALINE, id=1), trial(VENLAFAXINE, id=2, start=100, days=None, dose="150")],
        day(142),
        None,
        True,
        2,
        ("sertraline", "venlafaxine"),
    ),
    (
        "an_open_trial_at_41_days_does_not_count_yet",
        [trial(SERTRALINE, id=1), trial(VENLAFAXINE, id=2, start=100, days=None, dose="150")],
        day(141),
        None,
        False,
        1,
        ("sertraline",),
    ),
]


@pytest.mark.parametrize(
    ("trials", "as_of", "episode_start", "meets", "count", "drugs"),
    [case[1:] for case in PATIENT_CASES],
    ids=[case[0] for case in PATIENT_CASES],
)
def test_it_meets_trd_when_two_different_drugs_failed_adequate_trials(
    trials: list[TrialFacts],
    as_of: date,
    episode_start: date | None,
    meets: bool,
    count: int,
    drugs: tuple[str, ...],
) -> None:
    result = evaluate(trials, as_of=as_of, episode_start=episode_start)
    assert isinstance(result, TrdEvaluation)
    assert result.as_of == as_of
    assert result.meets_trd is meets
    assert result.failed_adequate_trial_count == count
    assert result.counting_drugs == drugs
    counted = {ev.trial.drug.name for ev in result.trials if ev.counts_toward_trd}
    assert counted == set(drugs)


def test_it_counts_the_same_drug_once() -> None:
    result = evaluate(
        [trial(SERTRALINE, id=1), trial(SERTRALINE, id=2, start=100)], as_of=FAR_FUTURE
    )
    assert [ev.counts_toward_trd for ev in result.trials] == [True, True]
    assert result.failed_adequate_trial_count == 1
    assert result.counting_drugs == ("sertraline",)
    assert result.meets_trd is False


def test_it_leaves_trials_starting_after_as_of_out_of_the_result() -> None:
    later = trial(VENLAFAXINE, id=2, start=11, dose="150")
    result = evaluate([trial(SERTRALINE, id=1), later], as_of=day(10))
    assert [ev.trial.id for ev in result.trials] == [1]


def test_it_keeps_a_trial_starting_on_as_of_in_the_result() -> None:
    today = trial(VENLAFAXINE, id=2, start=10, days=None, dose="150")
    result = evaluate([trial(SERTRALINE, id=1), today], as_of=day(10))
    assert [ev.trial.id for ev in result.trials] == [1, 2]
    assert result.trials[1].days_at_adequate_dose == 0
    assert result.trials[1].counts_toward_trd is False


def test_it_passes_the_episode_start_to_every_trial() -> None:
    result = evaluate(
        [trial(SERTRALINE, id=1), trial(VENLAFAXINE, id=2, start=100, dose="150")],
        as_of=FAR_FUTURE,
        episode_start=day(43),
    )
    assert result.trials[0].reasons == (
        "before the current episode (ended 2024-02-12, episode began 2024-02-13)",
    )
    assert result.trials[1].reasons == ()


def test_it_accepts_any_iterable_of_trials() -> None:
    trials = (t for t in [trial(SERTRALINE, id=1), trial(VENLAFAXINE, id=2, dose="150")])
    result = evaluate(trials, as_of=FAR_FUTURE)
    assert result.meets_trd is True
    assert len(result.trials) == 2


def test_it_orders_trials_by_start_date_then_id() -> None:
    trials = [
        trial(SERTRALINE, id=5, start=30),
        trial(VENLAFAXINE, id=3, start=0, dose="150"),
        trial(MIRTAZAPINE, id=9, start=10, dose="30"),
        trial(SERTRALINE, id=1, start=10),
        trial(VENLAFAXINE, id=2, start=30, dose="150"),
    ]
    result = evaluate(trials, as_of=FAR_FUTURE)
    assert isinstance(result.trials, tuple)
    assert [(ev.trial.start_date, ev.trial.id) for ev in result.trials] == [
        (day(0), 3),
        (day(10), 1),
        (day(10), 9),
        (day(30), 2),
        (day(30), 5),
    ]


def test_it_evaluates_each_trial_the_same_way_as_evaluate_trial() -> None:
    trials = [trial(SERTRALINE, id=1, dose="25"), trial(VENLAFAXINE, id=2, start=5, days=None)]
    result = evaluate(trials, as_of=day(30), episode_start=day(1))
    assert result.trials == tuple(
        evaluate_trial(t, as_of=day(30), episode_start=day(1)) for t in trials
    )


SUMMARY_CASES = [
    # (id, trials, expected summary)
    (
        "none_failed",
        [],
        "Does not meet TRD: 0 of the 2 required different antidepressants failed "
        "after an adequate trial.",
    ),
    (
        "one_failed",
        [trial(SERTRALINE, id=1), trial(SERTRALINE, id=2, start=100)],
        "Does not meet TRD: 1 of the 2 required different antidepressants failed "
        "after an adequate trial.",
    ),
    (
        "two_failed",
        [trial(VENLAFAXINE, id=1, dose="150"), trial(SERTRALINE, id=2, start=100)],
        "Meets TRD: adequate trials of 2 different antidepressants failed "
        "(sertraline, venlafaxine).",
    ),
    (
        "three_failed",
        [
            trial(VENLAFAXINE, id=1, dose="150"),
            trial(SERTRALINE, id=2, start=100),
            trial(MIRTAZAPINE, id=3, start=200, dose="15"),
        ],
        "Meets TRD: adequate trials of 3 different antidepressants failed "
        "(mirtazapine, sertraline, venlafaxine).",
    ),
]


@pytest.mark.parametrize(
    ("trials", "expected"),
    [case[1:] for case in SUMMARY_CASES],
    ids=[case[0] for case in SUMMARY_CASES],
)
def test_it_summarises_the_result_in_one_sentence(trials: list[TrialFacts], expected: str) -> None:
    assert evaluate(trials, as_of=FAR_FUTURE).summary == expected


# --------------------------------------------------------------------------------------
# Rule 6: two counting trials taken together carry a note; the count is unchanged
# --------------------------------------------------------------------------------------

NOTE = "taken together with {} for {} days (a combination; some definitions count it as one trial)"

COMBINATION_CASES = [
    # (id, trials, expected notes per trial id)
    (
        "28_days_together_are_noted_on_both",
        # sertraline days 0-70, venlafaxine days 42-84: together on days 42-69
        [trial(SERTRALINE, id=1, days=70), trial(VENLAFAXINE, id=2, start=42, dose="150")],
        {1: (NOTE.format("venlafaxine", 28),), 2: (NOTE.format("sertraline", 28),)},
    ),
    (
        "27_days_together_are_not_noted",
        [trial(SERTRALINE, id=1, days=70), trial(VENLAFAXINE, id=2, start=43, dose="150")],
        {1: (), 2: ()},
    ),
    (
        "only_days_both_at_an_adequate_dose_are_together",
        # venlafaxine from day 30, but adequate only from day 43: 27 adequate days together
        [
            trial(SERTRALINE, id=1, days=70),
            trial(VENLAFAXINE, id=2, start=30, days=60, dose="37.5", changes=((43, "150"),)),
        ],
        {1: (), 2: ()},
    ),
    (
        "a_partner_that_does_not_count_is_not_noted",
        [
            trial(SERTRALINE, id=1, days=100),
            trial(VENLAFAXINE, id=2, start=10, dose="150", outcome="response"),
        ],
        {1: (), 2: ()},
    ),
    (
        "the_same_drug_twice_is_not_a_combination",
        [trial(SERTRALINE, id=1, days=70), trial(SERTRALINE, id=2, start=10, days=60)],
        {1: (), 2: ()},
    ),
    (
        "each_partner_gets_its_own_note",
        [
            trial(SERTRALINE, id=1, days=100),
            trial(VENLAFAXINE, id=2, start=0, days=50, dose="150"),
            trial(MIRTAZAPINE, id=3, start=50, days=50, dose="30"),
        ],
        {
            1: (NOTE.format("venlafaxine", 50), NOTE.format("mirtazapine", 50)),
            2: (NOTE.format("sertraline", 50),),
            3: (NOTE.format("sertraline", 50),),
        },
    ),
]


@pytest.mark.parametrize(
    ("trials", "expected_notes"),
    [case[1:] for case in COMBINATION_CASES],
    ids=[case[0] for case in COMBINATION_CASES],
)
def test_counting_trials_taken_together_for_28_days_are_noted(
    trials: list[TrialFacts], expected_notes: dict[int, tuple[str, ...]]
) -> None:
    result = evaluate(trials, as_of=FAR_FUTURE)
    assert {ev.trial.id: ev.notes for ev in result.trials} == expected_notes


def test_a_combination_note_leaves_the_count_unchanged() -> None:
    together = [trial(SERTRALINE, id=1, days=70), trial(VENLAFAXINE, id=2, start=42, dose="150")]
    result = evaluate(together, as_of=FAR_FUTURE)
    assert all(ev.notes for ev in result.trials)
    assert all(ev.reasons == () and ev.counts_toward_trd for ev in result.trials)
    assert result.failed_adequate_trial_count == 2
    assert result.meets_trd is True


def test_combination_days_stop_at_the_as_of_date() -> None:
    together = [trial(SERTRALINE, id=1, days=100), trial(VENLAFAXINE, id=2, start=0, dose="150")]
    # Both run from day 0; as of day 42 both have 42 days and have been together for 42.
    assert evaluate(together, as_of=day(42)).trials[0].notes == (NOTE.format("venlafaxine", 42),)
    # As of day 41 neither counts yet, so there is nothing to note.
    assert all(ev.notes == () for ev in evaluate(together, as_of=day(41)).trials)
