"""The TRD status words are the rule's (treatments.trd): the filters' values and labels, the
summary sentence and the verdict of the page and the discussion sheet."""

from datetime import date

import pytest

from patients.forms import PatientSearchForm
from patients.models import TrdStatusChange
from reports.forms import TRD_STATUS_CHOICES
from treatments import trd


def test_the_status_words():
    assert trd.STATUS_LABELS == {
        "meets": "Meets TRD",
        "not_met": "Does not meet TRD",
        "one_failed": "One adequate failed trial",
    }
    assert (trd.status_label(True), trd.status_label(False)) == ("Meets TRD", "Does not meet TRD")


def test_the_filters_offer_the_rules_statuses():
    assert PatientSearchForm.STATUS_CHOICES[1:] == list(trd.STATUS_LABELS.items())
    assert TRD_STATUS_CHOICES[1:] == [
        (trd.MEETS, trd.STATUS_LABELS[trd.MEETS]),
        (trd.NOT_MET, trd.STATUS_LABELS[trd.NOT_MET]),
    ]


def test_the_summary_and_the_verdict_use_the_words():
    evaluation = trd.evaluate([], as_of=date(2024, 1, 1))
    assert evaluation.summary.startswith(trd.status_label(False) + ":")
    assert evaluation.verdict == "Does not meet the TRD definition"
    assert evaluation._replace(meets_trd=True).verdict == "Meets the TRD definition"


@pytest.mark.parametrize(
    ("meets", "applicable", "words"),
    [
        (True, True, "meets TRD"),
        (False, True, "does not meet TRD"),
        (False, False, "definition does not apply"),
    ],
)
def test_the_history_says_the_status_in_the_rules_words(meets, applicable, words):
    change = TrdStatusChange(meets_trd=meets, applicable=applicable, failed_adequate_trial_count=0)
    assert change.status_words == words
