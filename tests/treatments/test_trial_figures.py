"""The stored per-trial figures and the fast count steps agree with the rule (no database)."""

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest

from treatments import trd, trial_figures

DAY0 = date(2024, 1, 1)
MINIMUM = Decimal("50")


def drug(name="sertraline", minimum=MINIMUM, antidepressant=True):
    return trd.DrugFacts(
        name=name, drug_class="SSRI", is_antidepressant=antidepressant, min_adequate_dose_mg=minimum
    )


def random_trial(rng: random.Random, trial_id: int, names=("sertraline",)) -> trd.TrialFacts:
    start = DAY0 + timedelta(days=rng.randrange(0, 200))
    roll = rng.random()
    if roll < 0.3:
        end = None
    elif roll < 0.4:
        end = start  # zero-length
    else:
        end = start + timedelta(days=rng.randrange(1, 160))
    doses = [Decimal("25"), Decimal("50"), Decimal("75"), Decimal("49.5")]
    changes = tuple(
        trd.DoseChange(
            date=start + timedelta(days=rng.randrange(-15, 120)), dose_mg=rng.choice(doses)
        )
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3, 4]))
    )
    if rng.random() < 0.15:  # a change on the start date replaces the starting dose
        changes += (trd.DoseChange(date=start, dose_mg=rng.choice(doses)),)
    return trd.TrialFacts(
        id=trial_id,
        drug=drug(
            rng.choice(names),
            minimum=None if rng.random() < 0.05 else MINIMUM,
            antidepressant=rng.random() > 0.1,
        ),
        start_date=start,
        end_date=end,
        dose_mg=rng.choice(doses),
        dose_changes=changes,
        adherence=rng.choice(["good", "good", "partial", "poor", "unknown"]),
        outcome=rng.choice(["no_response", "partial_response", "response", "ongoing"]),
    )


def last_change(trial: trd.TrialFacts) -> date:
    return max(
        [trial.start_date] + [c.date for c in trial.dose_changes if c.date >= trial.start_date]
    )


def test_the_stored_figures_give_the_rules_days_on_every_day_after_the_last_change():
    rng = random.Random(20261201)
    for trial_id in range(1500):
        trial = random_trial(rng, trial_id)
        stored = trial_figures.figures(trial)
        first = last_change(trial)
        for offset in list(range(0, 60)) + [rng.randrange(60, 400) for _ in range(20)]:
            as_of = first + timedelta(days=offset)
            evaluation = trd.evaluate_trial(trial, as_of=as_of)
            days = trial_figures.days_at_adequate_dose(stored, trial.end_date, as_of)
            assert days == evaluation.days_at_adequate_dose, (trial, as_of, stored)


def test_adequate_on_is_the_first_day_with_enough_days_on_any_day():
    rng = random.Random(7)
    for trial_id in range(800):
        trial = random_trial(rng, trial_id)
        adequate_on = trial_figures.figures(trial).adequate_on
        for offset in range(0, 330, 3):
            as_of = trial.start_date + timedelta(days=offset)
            enough = (
                trd.evaluate_trial(trial, as_of=as_of).days_at_adequate_dose
                >= trd.MIN_ADEQUATE_DAYS
            )
            assert enough == (adequate_on is not None and adequate_on <= as_of), (trial, as_of)


def test_the_figures_of_an_open_trial_at_an_adequate_dose():
    trial = trd.TrialFacts(
        id=1,
        drug=drug(),
        start_date=DAY0,
        end_date=None,
        dose_mg=Decimal("25"),
        dose_changes=(trd.DoseChange(date=DAY0 + timedelta(days=10), dose_mg=Decimal("50")),),
    )
    assert trial_figures.figures(trial) == trial_figures.TrialFigures(
        adequate_days_base=0,
        adequate_days_since=DAY0 + timedelta(days=10),
        adequate_on=DAY0 + timedelta(days=52),
        counts_as_antidepressant=True,
    )


def test_a_trial_ending_below_the_adequate_dose_stops_growing():
    trial = trd.TrialFacts(
        id=1,
        drug=drug(),
        start_date=DAY0,
        end_date=DAY0 + timedelta(days=100),
        dose_mg=Decimal("50"),
        dose_changes=(trd.DoseChange(date=DAY0 + timedelta(days=30), dose_mg=Decimal("25")),),
    )
    stored = trial_figures.figures(trial)
    assert (stored.adequate_days_base, stored.adequate_days_since, stored.adequate_on) == (
        30,
        None,
        None,
    )


def test_a_formulation_that_is_no_antidepressant_is_stored_as_such():
    trial = trd.TrialFacts(
        id=1,
        drug=drug("selegiline", antidepressant=False),
        start_date=DAY0,
        end_date=None,
        dose_mg=Decimal("50"),
    )
    assert trial_figures.figures(trial).counts_as_antidepressant is False


@pytest.mark.parametrize("seed", range(6))
def test_the_count_steps_are_the_rules(seed):
    rng = random.Random(seed)
    for _ in range(40):
        history = [
            random_trial(rng, n, names=("sertraline", "venlafaxine", "mirtazapine"))
            for n in range(rng.randrange(0, 6))
        ]
        episode_start = (
            DAY0 + timedelta(days=rng.randrange(-30, 250)) if rng.random() < 0.5 else None
        )
        since = DAY0 + timedelta(days=rng.randrange(0, 400))
        horizon = rng.choice([trd.HORIZON_DAYS, 30])
        expected = bisected_count_steps(
            history, since=since, episode_start=episode_start, horizon_days=horizon
        )
        assert (
            trial_figures.count_steps(
                history, since=since, episode_start=episode_start, horizon_days=horizon
            )
            == expected
        )


def test_one_evaluation_gives_the_figures_and_the_first_counting_day():
    rng = random.Random(3)
    for trial_id in range(300):
        trial = random_trial(rng, trial_id)
        episode_start = DAY0 + timedelta(days=rng.randrange(0, 200)) if trial_id % 2 else None
        assert trial_figures.evaluate(trial, episode_start) == (
            trial_figures.figures(trial),
            trial_figures.counts_from(trial, episode_start),
        )


def bisected_count_steps(
    trials,
    *,
    since: date,
    episode_start: date | None = None,
    horizon_days: int = trd.HORIZON_DAYS,
) -> tuple[tuple[date, int], ...]:
    """The oracle: the count steps found by bisection on trd.evaluate's count (the causal rule).

    How the failed-adequate-trial count grows as days pass with this history.

    ``((since, n0), (d1, n1), ...)``: the count on ``since``, then each later day on which it
    rises (a trial still running on ``since`` reaches ``MIN_ADEQUATE_DAYS`` at an adequate dose
    in the episode, or a trial dated in the future begins), up to ``horizon_days`` ahead. It is
    :func:`evaluate`'s count on every day, so it follows the causal rule. With the history
    fixed the count never falls as days pass (days at adequate dose, in the episode or not,
    only accumulate up to the as-of date, and trials only join), so each rise is found by
    bisection.
    """
    trials = tuple(trials)

    def count(day: date) -> int:
        return trd.evaluate(
            trials, as_of=day, episode_start=episode_start
        ).failed_adequate_trial_count

    steps = [(since, count(since))]
    last_day = since + timedelta(days=horizon_days)
    final = count(last_day)
    while steps[-1][1] < final:
        low, low_count = steps[-1]
        high = last_day
        while (high - low).days > 1:
            middle = low + timedelta(days=(high - low).days // 2)
            if count(middle) > low_count:
                high = middle
            else:
                low = middle
        steps.append((high, count(high)))
    return tuple(steps)
