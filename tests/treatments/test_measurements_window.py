"""The patient page measures each trial from only the scores in its window (selectors.measurements):
the same measurement as from all the patient's scores."""

import random
from datetime import date, timedelta
from types import SimpleNamespace

from treatments import measured, scales
from treatments.selectors import measurements

DAY0 = date(2024, 1, 1)
AS_OF = date(2024, 12, 31)
TOTALS = {scales.PHQ9: 27, scales.MADRS: 60, scales.HAMD17: 52}


def random_patient(rng: random.Random):
    """Trials and scores crowded into a year: many windows overlap, scores share days, and
    the scores come in no particular order."""
    scores = [
        SimpleNamespace(
            scale=scale,
            date=DAY0 + timedelta(days=rng.randrange(-30, 400)),
            total=rng.randrange(0, TOTALS[scale] + 1),
        )
        for scale in rng.choices(list(TOTALS), k=rng.randrange(0, 60))
    ]
    trials = []
    for pk in range(1, rng.randrange(1, 25)):
        start = DAY0 + timedelta(days=rng.randrange(-20, 380))
        end = None if rng.random() < 0.25 else start + timedelta(days=rng.randrange(0, 120))
        trials.append(SimpleNamespace(pk=pk, start_date=start, end_date=end))
    return trials, scores


def test_each_trial_is_measured_as_from_all_the_scores():
    rng = random.Random(20261201)
    statuses = set()
    for _ in range(400):
        trials, scores = random_patient(rng)
        expected = {
            trial.pk: measured.measure(
                scores, start=trial.start_date, end=trial.end_date, as_of=AS_OF
            )
            for trial in trials
        }
        assert measurements(trials, scores, AS_OF) == expected
        statuses |= {found.status for found in expected.values()}
    assert statuses == {measured.MEASURED, measured.TOO_EARLY, measured.NO_SCORES}
