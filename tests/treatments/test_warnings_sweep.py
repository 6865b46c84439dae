"""The warnings' single sweep over trials sorted by start finds exactly what checking every pair
of trials finds: the same warnings, in the same order, with the same text."""

import random
from itertools import combinations

from treatments import warnings
from treatments.warnings import (
    CODE_ORDER,
    SEVERITY_ORDER,
    _dose_above_maximum,
    _lamotrigine,
    _maoi_overlap,
    _ordered,
    _overlap_days,
    _same_class,
    _Span,
    _washout_warning,
)

from .test_warnings import AS_OF, DRUGS, MAX_DOSES, trial

NAMES = sorted(DRUGS)


def every_pair_checked(trials, *, as_of, max_dose_mg):
    """The warnings as found by comparing every pair of trials (the rule as first written)."""
    spans = sorted(
        (
            _Span(
                t, min(t.end_date or as_of, as_of), ongoing=t.end_date is None or t.end_date > as_of
            )
            for t in trials
            if t.start_date <= as_of
        ),
        key=lambda s: (s.trial.start_date, s.trial.id is None, s.trial.id or 0),
    )
    found = [_dose_above_maximum(s, max_dose_mg.get(s.name), "", as_of) for s in spans]
    for first, second in combinations(spans, 2):
        a, b = _ordered(first, second)
        days = _overlap_days(a, b)
        if days > 0:
            found += [_maoi_overlap(a, b, days), _lamotrigine(a, b, days), _same_class(a, b, days)]
        else:
            found.append(_washout_warning(a, b))
    return sorted(
        (w for w in found if w is not None),
        key=lambda w: (SEVERITY_ORDER[w.severity], CODE_ORDER[w.code]),
    )


def random_history(rng: random.Random, size: int):
    """`size` trials of random drugs, crowded into a year so that many overlap or follow
    each other closely; some ongoing, some starting after the as-of date, some sharing a start."""
    trials = []
    for index in range(size):
        start = rng.randrange(-30, 380)
        end = None if rng.random() < 0.2 else start + rng.choice([0, 1, 5, 13, 14, 20, 34, 35, 60])
        changes = [(start + 3, str(rng.choice([100, 250, 400])))] if rng.random() < 0.3 else []
        trials.append(
            trial(
                rng.choice([index + 1, None]) if rng.random() < 0.1 else index + 1,
                rng.choice(NAMES),
                start,
                end,
                dose=rng.choice(["50", "300"]),
                changes=changes,
            )
        )
    return trials


def test_the_sweep_finds_the_same_warnings_as_checking_every_pair():
    rng = random.Random(20261201)
    compared = 0
    for _ in range(300):
        trials = random_history(rng, rng.randrange(0, 40))
        expected = every_pair_checked(trials, as_of=AS_OF, max_dose_mg=MAX_DOSES)
        assert warnings.history_warnings(trials, as_of=AS_OF, max_dose_mg=MAX_DOSES) == expected
        compared += len(expected)
    assert compared > 1000  # the random histories do raise warnings of every kind to compare


def test_the_random_histories_cover_every_kind_of_warning():
    rng = random.Random(20261201)
    codes = set()
    for _ in range(300):
        trials = random_history(rng, rng.randrange(0, 40))
        codes |= {
            w.code for w in warnings.history_warnings(trials, as_of=AS_OF, max_dose_mg=MAX_DOSES)
        }
    assert codes == set(CODE_ORDER)


def test_a_washout_just_short_of_the_longest_is_still_found_far_down_a_long_history():
    # Fluoxetine stopped, 34 days of other trials, then an MAOI: the sweep must reach that far.
    history = [trial(1, "fluoxetine", 0, 10)]
    history += [trial(2 + i, "lithium", 11 + i, 11 + i) for i in range(30)]
    history.append(trial(99, "phenelzine", 10 + warnings.LONGEST_WASHOUT - 1, 120))
    found = warnings.history_warnings(history, as_of=AS_OF)
    assert [(w.code, w.trial_ids) for w in found] == [(warnings.MAOI_WASHOUT_TOO_SHORT, (1, 99))]
    assert "34 days after fluoxetine stopped" in found[0].message
