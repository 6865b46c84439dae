"""Rating scales: what a valid score is, and the severity bands and remission thresholds."""

import pytest

from treatments import scales

PHQ9_ITEMS = [1, 2, 0, 3, 1, 1, 2, 0, 0]  # total 10


@pytest.mark.parametrize(
    ("scale", "total", "items", "fields"),
    [
        ("phq9", None, PHQ9_ITEMS, set()),
        ("phq9", 10, PHQ9_ITEMS, set()),
        ("phq9", 11, PHQ9_ITEMS, {"total"}),  # not the sum of the items
        ("phq9", 10, [], {"items"}),  # PHQ-9 needs its items
        ("phq9", None, [], {"items", "total"}),
        ("phq9", None, PHQ9_ITEMS[:8], {"items", "total"}),  # eight items
        ("phq9", None, [*PHQ9_ITEMS[:8], 4], {"items", "total"}),  # an item above 3
        ("phq9", None, [*PHQ9_ITEMS[:8], -1], {"items", "total"}),
        ("phq9", None, [*PHQ9_ITEMS[:8], "1"], {"items", "total"}),
        ("phq9", None, [*PHQ9_ITEMS[:8], True], {"items", "total"}),
        ("hamd17", 0, [], set()),
        ("hamd17", 52, [], set()),
        ("hamd17", 53, [], {"total"}),
        ("hamd17", -1, [], {"total"}),
        ("hamd17", None, [], {"total"}),
        ("hamd17", 2, [0] * 15 + [1, 1], set()),  # items optional, summing to the total
        ("hamd17", 3, [0] * 15 + [1, 1], {"total"}),
        ("hamd17", 2, [0] * 16 + [5], {"items"}),  # no HAM-D item goes above 4
        ("hamd17", 2, [0] * 16 + [3], {"items"}),  # item 17 (insight) is 0-2
        ("hamd17", 2, [0] * 16 + [2], set()),
        ("hamd17", 3, [0] * 3 + [3] + [0] * 13, {"items"}),  # item 4 (early insomnia) is 0-2
        ("hamd17", 4, [4] + [0] * 16, set()),  # item 1 (depressed mood) is 0-4
        ("hamd17", 52, [4, 4, 4, 2, 2, 2, 4, 4, 4, 4, 4, 2, 2, 2, 4, 2, 2], set()),
        ("hamd17", 2, [1, 1], {"items"}),  # 17 items when given
        ("madrs", 0, [], set()),
        ("madrs", 60, [], set()),
        ("madrs", 61, [], {"total"}),
        ("madrs", 12.5, [], {"total"}),
        ("madrs", 6, [6] + [0] * 9, set()),
        ("madrs", 7, [7] + [0] * 9, {"items"}),
        ("gad7", 5, [], {"scale"}),
    ],
)
def test_it_validates_scores(scale, total, items, fields):
    assert set(scales.validate(scale, total, items)) == fields


@pytest.mark.parametrize(
    ("scale", "total", "band"),
    [
        ("phq9", 0, "minimal"),
        ("phq9", 4, "minimal"),
        ("phq9", 5, "mild"),
        ("phq9", 9, "mild"),
        ("phq9", 10, "moderate"),
        ("phq9", 14, "moderate"),
        ("phq9", 15, "moderately severe"),
        ("phq9", 19, "moderately severe"),
        ("phq9", 20, "severe"),
        ("phq9", 27, "severe"),
        ("hamd17", 0, "normal"),
        ("hamd17", 7, "normal"),
        ("hamd17", 8, "mild"),
        ("hamd17", 13, "mild"),
        ("hamd17", 14, "moderate"),
        ("hamd17", 18, "moderate"),
        ("hamd17", 19, "severe"),
        ("hamd17", 22, "severe"),
        ("hamd17", 23, "very severe"),
        ("hamd17", 52, "very severe"),
        ("madrs", 0, "normal"),
        ("madrs", 6, "normal"),
        ("madrs", 7, "mild"),
        ("madrs", 19, "mild"),
        ("madrs", 20, "moderate"),
        ("madrs", 34, "moderate"),
        ("madrs", 35, "severe"),
        ("madrs", 60, "severe"),
    ],
)
def test_each_band_edge(scale, total, band):
    assert scales.band(scale, total) == band


@pytest.mark.parametrize(("scale", "total"), [("phq9", 28), ("hamd17", 53), ("madrs", -1)])
def test_a_total_outside_the_range_has_no_band(scale, total):
    with pytest.raises(ValueError):
        scales.band(scale, total)


@pytest.mark.parametrize(
    ("scale", "total", "remission"),
    [
        ("phq9", 4, True),
        ("phq9", 5, False),
        ("hamd17", 7, True),
        ("hamd17", 8, False),
        ("madrs", 10, True),
        ("madrs", 11, False),
    ],
)
def test_remission_thresholds(scale, total, remission):
    assert scales.in_remission(scale, total) is remission


def test_the_bands_cover_each_range_without_gaps():
    for scale in scales.SCALES.values():
        edges = [(band.low, band.high) for band in scale.bands]
        assert edges[0][0] == 0 and edges[-1][1] == scale.max_total
        assert all(high + 1 == low for (_, high), (low, _) in zip(edges, edges[1:], strict=False))


# HAM-D-17 items as the instrument defines them (Hamilton 1960, standard 17-item form).
HAMD17_ITEM_MAXIMA = [
    # (item number, what it rates, highest score)
    (1, "depressed mood", 4),
    (2, "guilt", 4),
    (3, "suicide", 4),
    (4, "early insomnia", 2),
    (5, "middle insomnia", 2),
    (6, "late insomnia", 2),
    (7, "work and activities", 4),
    (8, "retardation", 4),
    (9, "agitation", 4),
    (10, "psychic anxiety", 4),
    (11, "somatic anxiety", 4),
    (12, "gastrointestinal symptoms", 2),
    (13, "general somatic symptoms", 2),
    (14, "genital symptoms", 2),
    (15, "hypochondriasis", 4),
    (16, "loss of weight", 2),
    (17, "insight", 2),
]


@pytest.mark.parametrize(
    ("number", "highest"),
    [(number, highest) for number, _, highest in HAMD17_ITEM_MAXIMA],
    ids=[
        f"item_{number}_{name.replace(' ', '_')}_0_to_{highest}"
        for number, name, highest in HAMD17_ITEM_MAXIMA
    ],
)
def test_each_hamd17_item_is_scored_up_to_its_own_maximum(number, highest):
    at_max = [0] * 17
    at_max[number - 1] = highest
    assert scales.validate("hamd17", highest, at_max) == {}
    above = [0] * 17
    above[number - 1] = highest + 1
    assert scales.validate("hamd17", highest + 1, above) == {
        "items": f"HAM-D-17 item {number} is scored 0–{highest}."
    }


def test_the_hamd17_item_maxima_add_up_to_the_total_range():
    hamd = scales.SCALES["hamd17"]
    assert len(hamd.item_maxima) == hamd.item_count == 17
    assert sum(hamd.item_maxima) == hamd.max_total == 52
