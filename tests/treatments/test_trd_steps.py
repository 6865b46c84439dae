"""The stored summary's step function: the count on every day, as the rule gives it that day."""

from datetime import timedelta

import pytest

from treatments.trd import MIN_FAILED_TRIALS, count_on, count_steps, evaluate, first_day_with

from .test_trd_rule import SERTRALINE, VENLAFAXINE, day, trial

HISTORIES = {
    "closed trials only": [trial(SERTRALINE, id=1), trial(VENLAFAXINE, id=2, start=60, dose="150")],
    "one open trial crossing six weeks": [
        trial(VENLAFAXINE, id=1, start=0, dose="150"), trial(SERTRALINE, id=2, start=60, days=None),
    ],
    "an open trial reaching an adequate dose later": [
        trial(VENLAFAXINE, id=1, dose="150"),
        trial(SERTRALINE, id=2, start=50, days=None, dose="25", changes=((80, "100"),)),
    ],
    "a trial dated to start later": [
        trial(SERTRALINE, id=1), trial(VENLAFAXINE, id=2, start=150, days=60, dose="150"),
    ],
    "two open trials": [
        trial(SERTRALINE, id=1, start=10, days=None),
        trial(VENLAFAXINE, id=2, start=30, days=None, dose="150", outcome="partial_response"),
    ],
    "an open trial that will never count": [trial(SERTRALINE, id=1, days=None, outcome="ongoing")],
}


@pytest.mark.parametrize("history", HISTORIES.values(), ids=HISTORIES.keys())
def test_the_steps_give_the_rules_count_on_every_day(history):
    since = day(40)
    steps = count_steps(history, since=since)

    for offset in range(0, 300):
        on = since + timedelta(days=offset)
        expected = evaluate(history, as_of=on).failed_adequate_trial_count
        assert count_on(steps, on) == expected, on


def test_a_closed_history_is_one_step():
    steps = count_steps(HISTORIES["closed trials only"], since=day(200))

    assert steps == ((day(200), 2),)
    assert first_day_with(steps, MIN_FAILED_TRIALS) == day(200)


def test_the_day_an_open_trial_counts_is_a_step_of_its_own():
    steps = count_steps(HISTORIES["one open trial crossing six weeks"], since=day(70))
    # venlafaxine (days 0-42) has failed; sertraline, open since day 60, is not adequate yet

    assert [count for _, count in steps] == [1, 2]
    crossing = steps[1][0]
    assert evaluate(HISTORIES["one open trial crossing six weeks"], as_of=crossing).meets_trd
    assert not evaluate(HISTORIES["one open trial crossing six weeks"],
                        as_of=crossing - timedelta(days=1)).meets_trd
    assert first_day_with(steps, 1) == day(70) and first_day_with(steps, 2) == crossing


def test_a_count_that_never_rises_has_no_threshold_day():
    steps = count_steps(HISTORIES["an open trial that will never count"], since=day(10))

    assert steps == ((day(10), 0),)
    assert first_day_with(steps, 1) is None
