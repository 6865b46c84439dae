"""The worklist rules in treatments.worklist. Pure Python: no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest

from treatments import trd
from treatments.trd import DoseChange, DrugFacts, TrialFacts
from treatments.worklist import (
    Row,
    Worklist,
    adequate_since,
    day_reaching,
    newest_first,
    no_score_reason,
    oldest_first,
    review_due,
    risk_date,
    risk_reason,
    score_overdue,
    week_of,
)

MONDAY = date(2024, 3, 11)
SUNDAY = date(2024, 3, 17)
WEDNESDAY = date(2024, 3, 13)

SERTRALINE = DrugFacts("sertraline", "SSRI", True, Decimal("50"))
AGOMELATINE = DrugFacts("agomelatine", "Melatonergic", True, None)


def trial(
    start: date,
    dose: str = "100",
    *,
    changes=(),
    end: date | None = None,
    drug: DrugFacts = SERTRALINE,
) -> TrialFacts:
    return TrialFacts(
        id=1,
        drug=drug,
        start_date=start,
        end_date=end,
        dose_mg=Decimal(dose),
        dose_changes=tuple(DoseChange(when, Decimal(mg)) for when, mg in changes),
        adherence="good",
        outcome="ongoing",
    )


@pytest.mark.parametrize("day", [MONDAY, WEDNESDAY, SUNDAY])
def test_the_week_runs_from_monday_to_sunday(day):
    assert week_of(day) == (MONDAY, SUNDAY)


@pytest.mark.parametrize(
    ("start", "weeks", "on"),
    [
        (MONDAY - timedelta(days=28), 4, MONDAY),
        (WEDNESDAY - timedelta(days=42), 6, WEDNESDAY),
        (SUNDAY - timedelta(days=56), 8, SUNDAY),
    ],
)
def test_a_trial_adequate_from_its_start_is_due_at_4_6_and_8_weeks(start, weeks, on):
    due = review_due(trial(start), today=WEDNESDAY)

    assert (due.weeks, due.on, due.adequate_since) == (weeks, on, start)
    assert due.reason == f"review due: {weeks} weeks at adequate dose on {on:%Y-%m-%d}"


def test_a_mark_later_this_week_is_due_already_on_monday():
    start = SUNDAY - timedelta(days=42)

    due = review_due(trial(start), today=MONDAY)

    assert (due.weeks, due.on) == (6, SUNDAY)


@pytest.mark.parametrize(
    "mark",
    [MONDAY - timedelta(days=1), SUNDAY + timedelta(days=1)],
    ids=["last-sunday", "next-monday"],
)
def test_a_mark_just_outside_the_week_is_not_due(mark):
    # 6 weeks on `mark`; 4 and 8 weeks are a fortnight away from it, outside the week too.
    start = mark - timedelta(days=42)

    assert review_due(trial(start), today=WEDNESDAY) is None
    assert review_due(trial(start), today=mark) is not None


def test_the_weeks_count_from_the_dose_change_that_made_the_dose_adequate():
    start = date(2024, 1, 1)
    raised = start + timedelta(days=19)  # 25 mg/day, then 100 mg/day
    on = raised + timedelta(days=42)
    chosen = trial(start, "25", changes=[(raised, "100")])

    due = review_due(chosen, today=on)

    assert (due.weeks, due.on, due.adequate_since) == (6, on, raised)


def test_days_below_the_adequate_dose_in_between_do_not_count():
    start = date(2024, 1, 1)
    lowered, raised = start + timedelta(days=10), start + timedelta(days=17)  # 7 days at 25
    chosen = trial(start, "100", changes=[(lowered, "25"), (raised, "100")])

    due = review_due(chosen, today=start + timedelta(days=49))

    assert (due.weeks, due.on, due.adequate_since) == (6, start + timedelta(days=49), start)


def test_the_mark_is_the_day_the_trd_rule_first_counts_those_days():
    start = date(2024, 1, 1)
    chosen = trial(
        start,
        "25",
        changes=[
            (start + timedelta(days=5), "50"),
            (start + timedelta(days=20), "30"),
            (start + timedelta(days=30), "150"),
        ],
    )
    segments = trd.evaluate_trial(chosen, as_of=date(2024, 6, 1)).segments

    on = day_reaching(segments, 42)

    assert trd.evaluate_trial(chosen, as_of=on).days_at_adequate_dose == 42
    assert trd.evaluate_trial(chosen, as_of=on - timedelta(days=1)).days_at_adequate_dose == 41
    assert adequate_since(segments) == start + timedelta(days=5)


def test_a_trial_below_the_adequate_dose_is_never_due():
    start = date(2024, 1, 1)
    low = trial(start, "25", changes=[(start + timedelta(days=30), "40")])

    assert all(review_due(low, today=start + timedelta(days=n)) is None for n in range(120))


def test_a_drug_without_a_minimum_adequate_dose_is_never_due():
    start = WEDNESDAY - timedelta(days=42)

    assert review_due(trial(start, drug=AGOMELATINE), today=WEDNESDAY) is None


def test_an_ended_trial_is_not_due():
    start = WEDNESDAY - timedelta(days=42)

    assert review_due(trial(start, end=MONDAY), today=WEDNESDAY) is None
    assert review_due(trial(start, end=None), today=WEDNESDAY) is not None


def test_a_trial_between_marks_is_not_due():
    start = WEDNESDAY - timedelta(days=35)  # 5 weeks: 4 was last week, 6 is next week

    assert review_due(trial(start), today=WEDNESDAY) is None


@pytest.mark.parametrize(
    ("last", "overdue"),
    [
        (None, True),
        (WEDNESDAY, False),
        (WEDNESDAY - timedelta(days=28), False),
        (WEDNESDAY - timedelta(days=29), True),
    ],
)
def test_a_score_older_than_28_days_is_overdue(last, overdue):
    assert score_overdue(last, today=WEDNESDAY) is overdue


def test_the_no_score_reason_says_how_long_it_has_been():
    assert no_score_reason(None, today=WEDNESDAY) == "no score recorded"
    assert (
        no_score_reason(date(2024, 2, 1), today=WEDNESDAY)
        == "no score for 41 days (last on 2024-02-01)"
    )


def test_the_risk_reason_names_the_phq9_item_and_the_clinicians_flag():
    assert (
        risk_reason(flagged_by_clinician=True, phq9_item9=2, phq9_date=MONDAY)
        == "PHQ-9 item 9 scored 2 on 2024-03-11; flagged by a clinician"
    )
    assert (
        risk_reason(flagged_by_clinician=True, phq9_item9=0, phq9_date=MONDAY)
        == "flagged by a clinician"
    )


def test_the_risk_date_is_the_newest_thing_that_raised_it():
    earlier, later = date(2024, 1, 5), date(2024, 2, 5)
    both = {"flagged_by_clinician": True, "phq9_item9": 1}

    assert risk_date(**both, phq9_date=later, record_changed=earlier) == later
    assert risk_date(**both, phq9_date=earlier, record_changed=later) == later
    # A PHQ-9 with item 9 at 0 did not raise it: the flag's date alone counts.
    assert (
        risk_date(flagged_by_clinician=True, phq9_item9=0, phq9_date=later, record_changed=earlier)
        == earlier
    )


@dataclass(frozen=True)
class P:
    pk: int
    identifier: str


def test_rows_sort_newest_or_oldest_first_then_by_record_number():
    rows = [
        Row(P(1, "B"), "", date(2024, 1, 1)),
        Row(P(2, "A"), "", None),
        Row(P(3, "C"), "", date(2024, 2, 1)),
        Row(P(4, "A2"), "", date(2024, 1, 1)),
    ]

    assert [r.patient.identifier for r in newest_first(rows)] == ["C", "A2", "B", "A"]
    assert [r.patient.identifier for r in oldest_first(rows)] == ["A", "A2", "B", "C"]


def test_the_worklist_names_each_patient_it_shows_once():
    one, two = P(1, "ONE"), P(2, "TWO")
    worklist = Worklist(
        as_of=WEDNESDAY,
        suicide_risk=[Row(one, "")],
        reviews_due=[Row(two, "")],
        disagreements=[Row(one, "")],
        no_recent_score=[],
    )

    assert worklist.patients == [one, two]
    assert worklist.week == (MONDAY, SUNDAY)
