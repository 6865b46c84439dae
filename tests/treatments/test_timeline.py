"""The timeline's geometry: one row per trial and therapy, dose steps, counting trials marked."""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest

from treatments.timeline import build_timeline
from treatments.trd import DoseChange, DrugFacts, TrialFacts, evaluate

SERTRALINE = DrugFacts("sertraline", "SSRI", True, Decimal("50"))
VENLAFAXINE = DrugFacts("venlafaxine", "SNRI", True, Decimal("150"))
AS_OF = date(2025, 6, 1)


def therapy(kind="ect", start=date(2025, 3, 1), end=None, detail=""):
    return SimpleNamespace(
        kind=kind,
        start_date=start,
        end_date=end,
        detail=detail,
        get_kind_display=lambda: "ECT (electroconvulsive therapy)",
    )


def evaluation(*trials):
    return evaluate(trials, as_of=AS_OF)


def test_an_empty_history_has_no_rows():
    timeline = build_timeline(evaluation(), [])
    assert timeline.empty and timeline.height == 0


def test_each_trial_and_therapy_gets_a_row_in_order():
    ev = evaluation(
        TrialFacts(
            1,
            SERTRALINE,
            date(2024, 1, 1),
            date(2024, 3, 1),
            Decimal("100"),
            outcome="no_response",
            adherence="good",
        ),
        TrialFacts(2, VENLAFAXINE, date(2024, 4, 1), None, Decimal("75"), outcome="ongoing"),
    )
    timeline = build_timeline(ev, [therapy()])
    assert [row.label for row in timeline.rows] == ["sertraline", "venlafaxine", "ECT"]
    ys = [row.y for row in timeline.rows]
    assert ys == sorted(ys) and len(set(ys)) == 3


def test_dose_steps_are_visible_and_scaled_to_the_dose():
    ev = evaluation(
        TrialFacts(
            1,
            VENLAFAXINE,
            date(2024, 1, 1),
            date(2024, 5, 1),
            Decimal("75"),
            dose_changes=(DoseChange(date(2024, 2, 1), Decimal("150")),),
            outcome="no_response",
            adherence="good",
        ),
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
        TrialFacts(
            1,
            SERTRALINE,
            date(2024, 1, 1),
            date(2024, 3, 1),
            Decimal("100"),
            outcome="no_response",
            adherence="good",
        ),
        TrialFacts(
            2,
            SERTRALINE,
            date(2024, 4, 1),
            date(2024, 4, 20),
            Decimal("100"),
            outcome="no_response",
            adherence="good",
        ),
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


# --------------------------------------------------------------------------------------
# Score lanes: one per scale, under the trial bars, on the same time axis
# --------------------------------------------------------------------------------------


def score(scale, day, total):
    return SimpleNamespace(scale=scale, date=day, total=total)


SERTRALINE_TRIAL = TrialFacts(
    1,
    SERTRALINE,
    date(2024, 1, 1),
    date(2024, 3, 1),
    Decimal("100"),
    outcome="no_response",
    adherence="good",
)


def test_without_scores_there_are_no_lanes():
    timeline = build_timeline(evaluation(SERTRALINE_TRIAL), [])
    assert timeline.lanes == []


def test_each_scale_gets_a_lane_under_the_bars_in_a_fixed_order():
    scores = [
        score("madrs", date(2024, 1, 1), 30),
        score("phq9", date(2024, 1, 2), 20),
        score("hamd17", date(2024, 1, 3), 22),
        score("madrs", date(2024, 2, 1), 20),
    ]
    timeline = build_timeline(evaluation(SERTRALINE_TRIAL), [therapy()], scores)
    assert [lane.label for lane in timeline.lanes] == ["PHQ-9", "HAM-D-17", "MADRS"]
    last_row = timeline.rows[-1]
    assert all(lane.y > last_row.y + last_row.outline.height for lane in timeline.lanes)
    ys = [lane.y for lane in timeline.lanes]
    assert ys == sorted(ys)
    assert timeline.axis_y >= timeline.lanes[-1].y + timeline.lanes[-1].height
    assert timeline.height > timeline.axis_y


def test_scores_share_the_time_axis_with_the_trials():
    scores = [score("hamd17", date(2024, 1, 1), 24), score("hamd17", date(2024, 3, 1), 9)]
    timeline = build_timeline(evaluation(SERTRALINE_TRIAL), [], scores)
    outline = timeline.rows[0].outline
    start, end = timeline.lanes[0].points
    assert start.x == outline.x
    assert end.x == round(outline.x + outline.width, 1)


@pytest.mark.parametrize(
    ("scale", "total", "fraction_from_top"),
    [("phq9", 27, 0), ("phq9", 0, 1), ("hamd17", 26, 0.5), ("madrs", 15, 0.75)],
)
def test_higher_scores_are_drawn_higher(scale, total, fraction_from_top):
    (lane,) = build_timeline(evaluation(), [], [score(scale, date(2024, 1, 1), total)]).lanes
    (point,) = lane.points
    assert point.y == pytest.approx(lane.y + lane.height * fraction_from_top, abs=0.1)
    assert point.label == str(total)


@pytest.mark.parametrize(
    ("scale", "labels"),
    [
        ("phq9", ["minimal", "mild", "moderate", "moderately severe", "severe"]),
        ("hamd17", ["normal", "mild", "moderate", "severe", "very severe"]),
        ("madrs", ["normal", "mild", "moderate", "severe"]),
    ],
)
def test_the_severity_bands_are_shaded_and_fill_the_lane(scale, labels):
    (lane,) = build_timeline(evaluation(), [], [score(scale, date(2024, 1, 1), 10)]).lanes
    assert [band.label for band in lane.bands] == labels
    assert all(band.css.startswith("band ") for band in lane.bands)
    bottom = lane.bands[0]
    top = lane.bands[-1]
    assert bottom.y + bottom.height == pytest.approx(lane.y + lane.height, abs=0.2)
    assert top.y == pytest.approx(lane.y, abs=0.2)
    assert sum(band.height for band in lane.bands) == pytest.approx(lane.height, abs=0.5)


def test_the_line_joins_the_scores_in_date_order():
    scores = [
        score("phq9", date(2024, 3, 1), 5),
        score("phq9", date(2024, 1, 1), 20),
        score("phq9", date(2024, 2, 1), 12),
    ]
    (lane,) = build_timeline(evaluation(), [], scores).lanes
    assert [p.label for p in lane.points] == ["20", "12", "5"]
    assert lane.polyline == " ".join(f"{p.x},{p.y}" for p in lane.points)
    assert "PHQ-9 20 on 2024-01-01 (severe)" == lane.points[0].title


def test_scores_alone_make_a_chart_and_later_scores_are_left_out():
    scores = [score("madrs", date(2025, 5, 1), 30), score("madrs", date(2025, 7, 1), 10)]
    timeline = build_timeline(evaluation(), [], scores)  # as of 2025-06-01
    assert not timeline.empty and timeline.rows == []
    assert [p.label for p in timeline.lanes[0].points] == ["30"]


def test_the_band_names_sit_right_of_the_chart_clear_of_the_scores():
    scores = [score("phq9", date(2025, 5, 1), 27), score("phq9", date(2025, 5, 30), 0)]
    timeline = build_timeline(evaluation(SERTRALINE_TRIAL), [], scores)
    (lane,) = timeline.lanes
    right_edge = lane.bands[0].x + lane.bands[0].width
    assert all(point.x <= right_edge for point in lane.points)
    assert timeline.today_x <= right_edge < lane.band_label_x < timeline.width
