"""The timeline's geometry: one row per trial and therapy, dose steps, counting trials marked."""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

from treatments.timeline import build_timeline
from treatments.trd import DoseChange, DrugFacts, TrialFacts, evaluate

SERTRALINE = DrugFacts("sertraline", "SSRI", True, Decimal("50"))
VENLAFAXINE = DrugFacts("venlafaxine", "SNRI", True, Decimal("150"))
AS_OF = date(2025, 6, 1)


def therapy(kind="ect", start=date(2025, 3, 1), end=None, detail=""):
    return SimpleNamespace(
        kind=kind, start_date=start, end_date=end, detail=detail,
        get_kind_display=lambda: "ECT (electroconvulsive therapy)",
    )


def evaluation(*trials):
    return evaluate(trials, as_of=AS_OF)


def test_an_empty_history_has_no_rows():
    timeline = build_timeline(evaluation(), [])
    assert timeline.empty and timeline.height == 0


def test_each_trial_and_therapy_gets_a_row_in_order():
    ev = evaluation(
        TrialFacts(1, SERTRALINE, date(2024, 1, 1), date(2024, 3, 1), Decimal("100"),
                   outcome="no_response", adherence="good"),
        TrialFacts(2, VENLAFAXINE, date(2024, 4, 1), None, Decimal("75"), outcome="ongoing"),
    )
    timeline = build_timeline(ev, [therapy()])
    assert [row.label for row in timeline.rows] == ["sertraline", "venlafaxine", "ECT"]
    ys = [row.y for row in timeline.rows]
    assert ys == sorted(ys) and len(set(ys)) == 3


def test_dose_steps_are_visible_and_scaled_to_the_dose():
    ev = evaluation(
        TrialFacts(1, VENLAFAXINE, date(2024, 1, 1), date(2024, 5, 1), Decimal("75"),
                   dose_changes=(DoseChange(date(2024, 2, 1), Decimal("150")),),
                   outcome="no_response", adherence="good"),
    )
    row = build_timeline(ev, []).rows[0]
    low, high = row.steps
    assert (low.css, high.css) == ("dose-low", "dose-adequate")
    assert low.height < high.height
    assert low.x < high.x
    assert abs((low.x + low.width) - high.x) < 0.2
    assert (low.label, high.label) == ("75", "150")


def test_counting_trials_are_distinguishable():
    ev = evaluation(
        TrialFacts(1, SERTRALINE, date(2024, 1, 1), date(2024, 3, 1), Decimal("100"),
                   outcome="no_response", adherence="good"),
        TrialFacts(2, SERTRALINE, date(2024, 4, 1), date(2024, 4, 20), Decimal("100"),
                   outcome="no_response", adherence="good"),
    )
    first, second = build_timeline(ev, []).rows
    assert first.counts and "counts" in first.outline.css
    assert first.sublabel == "counts toward TRD"
    assert not second.counts and second.sublabel == "not adequate"


def test_the_axis_has_month_ticks_inside_the_chart():
    ev = evaluation(
        TrialFacts(1, SERTRALINE, date(2025, 1, 10), date(2025, 4, 20), Decimal("100")),
    )
    timeline = build_timeline(ev, [])
    assert [tick.label for tick in timeline.ticks][:2] == ["Feb 2025", "Mar 2025"]
    assert all(timeline.chart_left <= tick.x <= timeline.width for tick in timeline.ticks)


def test_the_chart_reaches_the_as_of_date_so_today_is_on_it():
    ev = evaluation(
        TrialFacts(1, SERTRALINE, date(2024, 1, 10), date(2024, 3, 20), Decimal("100")),
    )
    timeline = build_timeline(ev, [])
    row = timeline.rows[0]
    assert row.outline.x + row.outline.width < timeline.today_x < timeline.width


def test_long_histories_thin_the_ticks_to_years():
    ev = evaluation(
        TrialFacts(1, SERTRALINE, date(2015, 1, 1), date(2015, 3, 1), Decimal("100")),
        TrialFacts(2, SERTRALINE, date(2025, 1, 1), date(2025, 3, 1), Decimal("100")),
    )
    labels = [tick.label for tick in build_timeline(ev, []).ticks]
    assert len(labels) <= 8
    assert all(len(label) == 4 for label in labels)
