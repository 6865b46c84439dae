"""The dashboard's chart geometry: pure functions from numbers to rectangles."""

import pytest

from reports import dashboard_charts as charts
from reports.dashboard_charts import LABEL_WIDTH, VALUE_WIDTH, WIDTH

PLOT = WIDTH - LABEL_WIDTH - VALUE_WIDTH  # 500 px for values 0..top


@pytest.mark.parametrize(
    ("largest", "top", "step"),
    [
        (0, 1, 1),
        (1, 1, 1),
        (3, 3, 1),
        (7, 8, 2),
        (10, 10, 2),
        (42, 50, 10),
        (61, 80, 20),
        (0.4, 1, 1),
        (99, 100, 20),
        (101, 150, 50),
        (12_345, 15_000, 5_000),
    ],
)
def test_nice_scale_uses_whole_1_2_5_steps_and_at_most_5_intervals(largest, top, step):
    got_top, got_step = charts.nice_scale(largest)
    assert got_top == pytest.approx(top)
    assert got_step == pytest.approx(step)
    assert got_top >= largest
    assert round(got_top / got_step) <= 5


@pytest.mark.parametrize(
    ("items", "widths"),
    [
        ([("a", 10)], [PLOT]),
        ([("a", 10), ("b", 5)], [PLOT, PLOT / 2]),
        ([("a", 0), ("b", 4)], [0, PLOT]),
        ([("a", 3), ("b", 1)], [PLOT, PLOT / 3]),  # top 3, step 1
    ],
)
def test_horizontal_bars_are_proportional_to_their_values(items, widths):
    chart = charts.horizontal_bars(items)
    assert [row.bars[0].width for row in chart.rows] == pytest.approx(widths, abs=0.1)
    assert all(row.bars[0].x == LABEL_WIDTH for row in chart.rows)
    assert [row.label for row in chart.rows] == [label for label, _ in items]


def test_horizontal_bars_stack_rows_downwards_and_the_axis_below_them():
    chart = charts.horizontal_bars([("a", 1), ("b", 2), ("c", 3)])
    ys = [row.y for row in chart.rows]
    assert ys == sorted(ys)
    assert ys[1] - ys[0] == charts.ROW_HEIGHT
    assert chart.axis_y > ys[-1] + charts.BAR_HEIGHT
    assert chart.height > chart.axis_y


def test_a_bar_may_carry_its_own_css_class():
    chart = charts.horizontal_bars([("Meets TRD", 2, "grp-trd"), ("Other", 5)], css="bar")
    assert [row.bars[0].css for row in chart.rows] == ["grp-trd", "bar"]


def test_the_reference_line_widens_the_scale_to_include_it():
    chart = charts.horizontal_bars([("SSRI", 20)], reference=(42, "42 days"), unit=" d")
    assert chart.reference.label == "42 days"
    assert chart.reference.position == pytest.approx(LABEL_WIDTH + PLOT * 42 / 50, abs=0.1)
    assert chart.rows[0].value_label == "20 d"
    assert chart.rows[0].bars[0].title == "SSRI: 20 d"
    assert chart.rows[0].y > charts.TOP  # room above the rows for the line's label


def test_ticks_run_from_zero_to_the_top_of_the_scale():
    chart = charts.horizontal_bars([("a", 7)])
    assert [tick.label for tick in chart.ticks] == ["0", "2", "4", "6", "8"]
    assert chart.ticks[0].position == LABEL_WIDTH
    assert chart.ticks[-1].position == LABEL_WIDTH + PLOT


@pytest.mark.parametrize("build", [charts.horizontal_bars, charts.stacked_bars, charts.columns])
def test_no_data_gives_an_empty_chart(build):
    assert build([]).empty


def test_stacked_segments_follow_one_another_and_skip_zeros():
    chart = charts.stacked_bars(
        [
            (
                "SSRI",
                [
                    ("response", "Response", 2),
                    ("remission", "Remission", 0),
                    ("no_response", "No response", 3),
                ],
            ),
            (
                "TCA",
                [
                    ("response", "Response", 0),
                    ("remission", "Remission", 0),
                    ("no_response", "No response", 1),
                ],
            ),
        ]
    )
    ssri, tca = chart.rows
    assert [bar.css for bar in ssri.bars] == ["seg-response", "seg-no_response"]
    first, second = ssri.bars
    assert first.x == LABEL_WIDTH
    assert second.x == pytest.approx(first.x + first.width, abs=0.1)
    assert first.width + second.width == pytest.approx(PLOT, abs=0.2)  # total 5 = top
    assert ssri.value_label == "5"
    assert second.title == "SSRI, no response: 3"
    assert [bar.css for bar in tca.bars] == ["seg-no_response"]
    assert tca.bars[0].width == pytest.approx(PLOT / 5, abs=0.1)


@pytest.mark.parametrize(
    ("values", "heights"),
    [
        ([0, 5, 10], [0, 0.5, 1]),
        ([2, 2], [1, 1]),
        ([0, 0], [0, 0]),
    ],
)
def test_columns_rise_from_the_base_in_proportion(values, heights):
    chart = charts.columns([(str(i), v, f"title {i}") for i, v in enumerate(values)])
    plot_height = chart.base_y - charts.COLUMN_TOP
    assert [c.height / plot_height for c in chart.columns] == pytest.approx(heights, abs=0.01)
    assert all(c.y + c.height == pytest.approx(chart.base_y) for c in chart.columns)
    xs = [c.x for c in chart.columns]
    assert xs == sorted(xs)
    assert xs[0] >= chart.left
    assert chart.columns[-1].x + chart.columns[-1].width <= chart.right


def test_column_labels_sit_centred_under_and_above_each_column():
    column = charts.columns([("Jan 25", 4, "January 2025: 4 trials started")]).columns[0]
    assert column.center_x == pytest.approx(column.x + column.width / 2, abs=0.1)
    assert column.value_y < column.y
    assert column.label_y > column.y + column.height
    assert column.value_label == "4"
