"""The stored summary's step function: the count on every day, as the rule gives it that day."""

from datetime import timedelta

import pytest

from treatments.trd import MIN_FAILED_TRIALS, count_on, evaluate, first_day_with
from treatments.trial_figures import count_steps

from .test_trd_rule import SERTRALINE, VENLAFAXINE, day, trial

HISTORIES = {
    "closed trials only": [trial(SERTRALINE, id=1), trial(VENLAFAXINE, id=2, start=60, dose="150")],
    "one open trial crossing six weeks": [
        trial(VENLAFAXINE, id=1, start=0, dose="150"),
        trial(SERTRALINE, id=2, start=60, days=None),
    ],
    "an open trial reaching an adequate dose later": [
        trial(VENLAFAXINE, id=1, dose="150"),
        trial(SERTRALINE, id=2, start=50, days=None, dose="25", changes=((80, "100"),)),
    ],
    "a trial dated to start later": [
        trial(SERTRALINE, id=1),
        trial(VENLAFAXINE, id=2, start=150, days=60, dose="150"),
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
    assert not evaluate(
        HISTORIES["one open trial crossing six weeks"], as_of=crossing - timedelta(days=1)
    ).meets_trd
    assert first_day_with(steps, 1) == day(70) and first_day_with(steps, 2) == crossing


def test_a_count_that_never_rises_has_no_threshold_day():
    steps = count_steps(HISTORIES["an open trial that will never count"], since=day(10))

    assert steps == ((day(10), 0),)
    assert first_day_with(steps, 1) is None


CAUSAL_HISTORIES = {
    "clause_a_a_closed_trial_still_running_on_since": (
        [trial(VENLAFAXINE, id=1, dose="150"), trial(SERTRALINE, id=2, start=30, days=90)],
        None,
    ),
    "clause_b_an_episode_starting_inside_an_open_trial": (
        [trial(VENLAFAXINE, id=1, start=60, dose="150"), trial(SERTRALINE, id=2, days=None)],
        day(50),
    ),
    "clause_b_a_trial_before_the_episode_never_counts": (
        [trial(VENLAFAXINE, id=1, dose="150"), trial(SERTRALINE, id=2, start=60, days=None)],
        day(45),
    ),
}


@pytest.mark.parametrize(
    ("history", "episode_start"), CAUSAL_HISTORIES.values(), ids=CAUSAL_HISTORIES.keys()
)
def test_the_steps_follow_the_causal_rule_on_every_day(history, episode_start):
    since = day(40)
    steps = count_steps(history, since=since, episode_start=episode_start)

    for offset in range(0, 200):
        on = since + timedelta(days=offset)
        expected = evaluate(history, as_of=on, episode_start=episode_start)
        assert count_on(steps, on) == expected.failed_adequate_trial_count, on


def test_a_closed_trial_ending_after_since_is_a_step_when_it_reaches_42_days():
    history, _ = CAUSAL_HISTORIES["clause_a_a_closed_trial_still_running_on_since"]
    steps = count_steps(history, since=day(40))

    assert steps == ((day(40), 0), (day(42), 1), (day(72), 2))


def test_an_open_trial_counts_42_days_after_the_episode_start():
    history, episode_start = CAUSAL_HISTORIES["clause_b_an_episode_starting_inside_an_open_trial"]
    steps = count_steps(history, since=day(40), episode_start=episode_start)

    # venlafaxine from day 60 reaches 42 days on day 102; sertraline, open from day 0, has its
    # 42nd day in the episode (from day 50) on day 92.
    assert steps == ((day(40), 0), (day(92), 1), (day(102), 2))
