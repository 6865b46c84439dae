"""Warnings derived from the recorded trials (treatments/warnings.py), table-driven."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from treatments import warnings
from treatments.trd import DoseChange, DrugFacts, TrialFacts

DAY0 = date(2024, 1, 1)
AS_OF = date(2024, 12, 31)

DRUGS = {
    # name: (class, is_antidepressant, is_augmentation_agent)
    "fluoxetine": ("SSRI", True, False),
    "sertraline": ("SSRI", True, False),
    "citalopram": ("SSRI", True, False),
    "venlafaxine": ("SNRI", True, False),
    "amitriptyline": ("TCA", True, False),
    "clomipramine": ("TCA", True, False),
    "maprotiline": ("Tetracyclic", True, False),
    "trazodone": ("SARI", True, False),
    "vortioxetine": ("Serotonin modulator", True, False),
    "phenelzine": ("MAOI", True, False),
    "tranylcypromine": ("MAOI", True, False),
    "moclobemide": ("RIMA", True, False),
    "mirtazapine": ("NaSSA", True, False),
    "mianserin": ("NaSSA", True, False),
    "bupropion": ("NDRI", True, False),
    "lithium": ("Mood stabiliser", False, True),
    "methylphenidate": ("Stimulant", False, True),
    "lamotrigine": ("Anticonvulsant / mood stabiliser", False, False),
    "valproate": ("Anticonvulsant / mood stabiliser", False, False),
    "carbamazepine": ("Anticonvulsant", False, False),
    "phenytoin": ("Anticonvulsant", False, False),
    "phenobarbital": ("Anticonvulsant (barbiturate)", False, False),
    "primidone": ("Anticonvulsant (barbiturate)", False, False),
    "rifampin": ("Antibiotic (rifamycin)", False, False),
    "folic acid": ("Vitamin", False, False),
    "estrogen-containing contraceptive": ("Hormonal contraceptive", False, False),
}
MAX_DOSES = {"sertraline": Decimal("200"), "venlafaxine": Decimal("375")}


def trial(id, name, start, end=None, dose="50", changes=()):
    """A trial of `name` from DAY0+start to DAY0+end (None: ongoing)."""
    drug_class, antidepressant, augmentation = DRUGS[name]
    return TrialFacts(
        id=id,
        drug=DrugFacts(name, drug_class, antidepressant, Decimal("1"), augmentation),
        start_date=DAY0 + timedelta(days=start),
        end_date=None if end is None else DAY0 + timedelta(days=end),
        dose_mg=Decimal(dose),
        dose_changes=tuple(DoseChange(DAY0 + timedelta(days=d), Decimal(v)) for d, v in changes),
    )


def found(trials, as_of=AS_OF):
    return [
        (w.code, w.severity, w.trial_ids)
        for w in warnings.history_warnings(trials, as_of=as_of, max_dose_mg=MAX_DOSES)
    ]


OVERLAP = warnings.MAOI_SEROTONERGIC_OVERLAP
HYPERTENSIVE = warnings.MAOI_HYPERTENSIVE_OVERLAP
WASHOUT = warnings.MAOI_WASHOUT_TOO_SHORT
LAMOTRIGINE = warnings.LAMOTRIGINE_INTERACTION
DOSE = warnings.DOSE_ABOVE_MAXIMUM
SAME = warnings.SAME_CLASS_OVERLAP

MAOI_OVERLAP_CASES = [
    # (partner, expected code or None, risk named in the message)
    ("sertraline", OVERLAP, "serotonin syndrome"),
    ("venlafaxine", OVERLAP, "serotonin syndrome"),
    ("amitriptyline", OVERLAP, "serotonin syndrome"),
    ("clomipramine", OVERLAP, "serotonin syndrome"),
    ("maprotiline", OVERLAP, "serotonin syndrome"),
    ("trazodone", OVERLAP, "serotonin syndrome"),
    ("vortioxetine", OVERLAP, "serotonin syndrome"),
    ("moclobemide", HYPERTENSIVE, "hypertensive crisis"),  # MAOI + RIMA
    ("tranylcypromine", HYPERTENSIVE, "hypertensive crisis"),  # two MAOIs: not also same_class
    ("bupropion", HYPERTENSIVE, "hypertensive crisis"),
    ("mirtazapine", HYPERTENSIVE, "hypertensive crisis"),
    ("methylphenidate", HYPERTENSIVE, "hypertensive crisis"),
    ("mianserin", None, ""),  # a NaSSA the reference does not name
    ("lithium", None, ""),
]


@pytest.mark.parametrize(
    ("partner", "code", "risk"), MAOI_OVERLAP_CASES, ids=[case[0] for case in MAOI_OVERLAP_CASES]
)
def test_an_maoi_overlapping_a_contraindicated_drug_is_high_with_the_reason(partner, code, risk):
    trials = [trial(1, partner, 0, 60), trial(2, "phenelzine", 30, 90)]
    result = warnings.history_warnings(trials, as_of=AS_OF)
    if code is None:
        assert result == []
        return
    [warning] = result
    assert (warning.code, warning.severity, warning.trial_ids) == (code, "high", (1, 2))
    assert risk in warning.message and warning.sources


@pytest.mark.parametrize(
    ("partner", "sources"),
    [
        ("bupropion", (warnings.WELLBUTRIN_LABEL,)),
        ("mirtazapine", (warnings.REMERON_LABEL,)),
        ("methylphenidate", (warnings.RITALIN_LABEL,)),
        ("tranylcypromine", (warnings.SPS_SWITCHING,)),
    ],
    ids=["bupropion", "mirtazapine", "methylphenidate", "maoi-plus-maoi"],
)
def test_an_maoi_with_a_noradrenergic_drug_stimulant_or_other_maoi_names_hypertensive_crisis(
    partner, sources
):
    [warning] = warnings.history_warnings(
        [
            trial(1, "tranylcypromine" if partner != "tranylcypromine" else "phenelzine", 0, 60),
            trial(2, partner, 30, 90),
        ],
        as_of=AS_OF,
    )
    assert warning.code == HYPERTENSIVE
    assert "hypertensive crisis" in warning.message
    assert warning.sources == sources


def test_two_maois_say_hypertensive_crisis_is_the_main_risk():
    [warning] = warnings.history_warnings(
        [trial(1, "phenelzine", 0, 60), trial(2, "tranylcypromine", 30, 90)], as_of=AS_OF
    )
    assert "main risk is a hypertensive crisis" in warning.message


def test_a_rima_overlapping_an_ssri_is_flagged_too():
    assert found([trial(1, "moclobemide", 0, 60), trial(2, "citalopram", 10, 20)]) == [
        (OVERLAP, "high", (1, 2))
    ]


@pytest.mark.parametrize(
    ("ssri_end", "maoi_start", "expected"),
    [
        (30, 30, [(OVERLAP, "high", (1, 2))]),  # overlap of one day: same day stop and start
        (30, 29, [(OVERLAP, "high", (1, 2))]),
        (30, 31, [(WASHOUT, "high", (1, 2))]),  # no overlap, 1-day gap
    ],
)
def test_trials_sharing_one_day_overlap(ssri_end, maoi_start, expected):
    trials = [trial(1, "sertraline", 0, ssri_end), trial(2, "phenelzine", maoi_start, 120)]
    assert found(trials) == expected


def test_an_open_trial_runs_to_the_as_of_date():
    trials = [trial(1, "sertraline", 0, None), trial(2, "phenelzine", 100, 120)]
    assert found(trials, as_of=DAY0 + timedelta(days=100)) == [(OVERLAP, "high", (1, 2))]
    # The MAOI starts after the as-of date: ignored.
    assert found(trials, as_of=DAY0 + timedelta(days=99)) == []


def test_an_open_trial_ending_before_a_later_one_is_impossible_so_overlap_is_reported():
    trials = [trial(1, "phenelzine", 0, None), trial(2, "sertraline", 200, 210)]
    assert found(trials) == [(OVERLAP, "high", (1, 2))]


WASHOUT_CASES = [
    # (first drug, second drug, washout in days)
    ("fluoxetine", "phenelzine", 35),  # 5 weeks after fluoxetine before an irreversible MAOI
    ("fluoxetine", "moclobemide", 28),  # 4 weeks fluoxetine -> moclobemide
    ("vortioxetine", "phenelzine", 21),  # 21 days after vortioxetine (its label)
    ("vortioxetine", "moclobemide", 21),
    ("bupropion", "phenelzine", 14),  # the Wellbutrin label
    ("mirtazapine", "phenelzine", 14),  # the Remeron label
    ("phenelzine", "methylphenidate", 14),  # the Ritalin label
    ("sertraline", "phenelzine", 14),  # 2 weeks after another SSRI
    ("venlafaxine", "tranylcypromine", 14),  # ... or an SNRI
    ("amitriptyline", "phenelzine", 14),
    ("sertraline", "moclobemide", 14),
    ("phenelzine", "sertraline", 14),  # 2 weeks after an irreversible MAOI
    ("phenelzine", "fluoxetine", 14),
    ("phenelzine", "bupropion", 14),  # ... before any other antidepressant
    ("phenelzine", "mirtazapine", 14),
    ("phenelzine", "tranylcypromine", 14),
    ("phenelzine", "moclobemide", 14),
]


@pytest.mark.parametrize(
    ("before", "after", "washout"), WASHOUT_CASES, ids=[f"{a}-to-{b}" for a, b, _ in WASHOUT_CASES]
)
@pytest.mark.parametrize(
    ("shortfall", "warned"),
    [(0, False), (1, True), (-1, False)],
    ids=["exactly", "one-day-short", "one-day-more"],
)
def test_a_switch_needs_the_reference_washout(before, after, washout, shortfall, warned):
    """Gap exactly at the washout: no warning; one day short: warning."""
    end = 40
    trials = [trial(1, before, 0, end), trial(2, after, end + washout - shortfall, 200)]
    expected = [(WASHOUT, "high", (1, 2))] if warned else []
    assert found(trials) == expected


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("moclobemide", "sertraline"),  # the reference gives no figure after a RIMA
        ("mianserin", "phenelzine"),  # nor for a NaSSA other than mirtazapine
        ("sertraline", "venlafaxine"),  # no MAOI involved
        ("lithium", "phenelzine"),  # not an antidepressant
        ("methylphenidate", "phenelzine"),  # the label's 14 days run after an MAOI only
    ],
    ids=["after-rima", "mianserin", "no-maoi", "lithium", "methylphenidate-first"],
)
def test_switches_without_a_reference_washout_raise_nothing(before, after):
    assert found([trial(1, before, 0, 40), trial(2, after, 41, 100)]) == []


def test_the_washout_is_checked_against_every_earlier_trial_not_only_the_last():
    trials = [
        trial(1, "fluoxetine", 0, 40),
        trial(2, "mianserin", 41, 60),  # no washout named before an MAOI
        trial(3, "phenelzine", 70, 200),  # 30 days after fluoxetine, 10 after mianserin
    ]
    assert found(trials) == [(WASHOUT, "high", (1, 3))]


@pytest.mark.parametrize(("gap", "warned"), [(20, True), (21, False)], ids=["20-days", "21-days"])
def test_vortioxetine_to_an_maoi_needs_21_days_citing_its_label(gap, warned):
    result = warnings.history_warnings(
        [trial(1, "vortioxetine", 0, 40), trial(2, "phenelzine", 40 + gap, 100)], as_of=AS_OF
    )
    assert [(w.code, w.sources) for w in result] == (
        [(WASHOUT, (warnings.TRINTELLIX_LABEL,))] if warned else []
    )
    if warned:
        assert "at least 21 days" in result[0].message


def test_the_washout_message_gives_the_gap_and_the_period():
    [warning] = warnings.history_warnings(
        [trial(1, "fluoxetine", 0, 40), trial(2, "phenelzine", 60, 100)], as_of=AS_OF
    )
    assert "20 days after fluoxetine" in warning.message
    assert "at least 35 days" in warning.message
    assert warning.sources == (warnings.ONTARIO_FORMULARY, warnings.ALPF_PHARMACOLOGY)


LAMOTRIGINE_CASES = [
    ("valproate", "high", (warnings.LAMICTAL_LABEL, warnings.SEED_001)),
    ("estrogen-containing contraceptive", "moderate", (warnings.LAMICTAL_LABEL, warnings.SEED_001)),
    ("carbamazepine", "moderate", (warnings.LAMICTAL_LABEL,)),
    ("phenytoin", "moderate", (warnings.LAMICTAL_LABEL,)),
    ("phenobarbital", "moderate", (warnings.LAMICTAL_LABEL, warnings.SEED_001)),
    ("primidone", "moderate", (warnings.LAMICTAL_LABEL,)),
    ("rifampin", "moderate", (warnings.LAMICTAL_LABEL, warnings.SEED_001)),
    ("folic acid", "info", (warnings.SEED_001,)),
]


@pytest.mark.parametrize(
    ("partner", "severity", "sources"),
    LAMOTRIGINE_CASES,
    ids=[case[0] for case in LAMOTRIGINE_CASES],
)
def test_lamotrigine_with_an_interacting_drug_is_flagged(partner, severity, sources):
    [warning] = warnings.history_warnings(
        [trial(1, "lamotrigine", 0, 100), trial(2, partner, 100, None)], as_of=AS_OF
    )
    assert (warning.code, warning.severity, warning.trial_ids) == (LAMOTRIGINE, severity, (1, 2))
    assert warning.sources == sources
    assert partner in warning.message and "1 day" in warning.message


@pytest.mark.parametrize("partner", [p for p, _, _ in LAMOTRIGINE_CASES])
def test_lamotrigine_after_the_interacting_drug_stopped_is_not_flagged(partner):
    assert found([trial(1, partner, 0, 30), trial(2, "lamotrigine", 31, 100)]) == []


def test_lamotrigine_with_a_non_interacting_drug_is_not_flagged():
    assert found([trial(1, "lamotrigine", 0, 100), trial(2, "sertraline", 10, 90)]) == []


DOSE_CASES = [
    # (start dose, dose changes, warned)
    ("200", (), False),  # at the maximum
    ("201", (), True),  # starting dose above it
    ("100", ((14, "200"),), False),
    ("100", ((14, "250"), (28, "150")), True),  # any dose change above it
    ("100", ((14, "200.001"),), True),
]


@pytest.mark.parametrize(
    ("dose", "changes", "warned"),
    DOSE_CASES,
    ids=["at-maximum", "start-above", "change-at-maximum", "change-above", "change-just-above"],
)
def test_a_dose_above_the_catalog_maximum_is_flagged(dose, changes, warned):
    trials = [trial(1, "sertraline", 0, 60, dose=dose, changes=changes)]
    expected = [(DOSE, "moderate", (1,))] if warned else []
    assert found(trials) == expected


@pytest.mark.parametrize(
    ("as_of_day", "warned"),
    [(29, False), (30, True)],
    ids=["as-of-before-the-change", "as-of-on-the-change"],
)
def test_a_dose_change_above_the_maximum_after_the_as_of_date_is_ignored(as_of_day, warned):
    trials = [trial(1, "sertraline", 0, 60, dose="100", changes=((30, "300"),))]
    expected = [(DOSE, "moderate", (1,))] if warned else []
    assert found(trials, as_of=DAY0 + timedelta(days=as_of_day)) == expected


def test_the_dose_warning_cites_the_catalogs_source_for_the_maximum():
    [warning] = warnings.history_warnings(
        [trial(1, "sertraline", 0, 60, dose="300")],
        as_of=AS_OF,
        max_dose_mg=MAX_DOSES,
        max_dose_sources={"sertraline": "CANMAT-2023"},
    )
    assert warning.sources == ("Drug catalog (usual maximum daily dose): CANMAT-2023",)


def test_an_overlap_after_the_as_of_date_is_not_known_yet():
    trials = [trial(1, "sertraline", 0, 60), trial(2, "phenelzine", 30, 90)]
    assert found(trials, as_of=DAY0 + timedelta(days=29)) == []  # the MAOI starts later
    [warning] = warnings.history_warnings(trials, as_of=DAY0 + timedelta(days=30))
    assert "overlap by 1 day" in warning.message  # to the as-of date, not to day 60
    assert "sertraline (2024-01-01 → ongoing)" in warning.message


def test_the_dose_warning_names_the_highest_dose_and_its_date():
    [warning] = warnings.history_warnings(
        [trial(7, "sertraline", 0, 60, dose="250", changes=((14, "300"), (28, "100")))],
        as_of=AS_OF,
        max_dose_mg=MAX_DOSES,
    )
    assert "300 mg/day from 2024-01-15" in warning.message
    assert "maximum of 200 mg/day" in warning.message


def test_a_drug_without_a_catalog_maximum_has_no_dose_warning():
    assert found([trial(1, "citalopram", 0, 60, dose="1000")]) == []


SAME_CLASS_CASES = [
    (("sertraline", "citalopram"), [(SAME, "moderate", (1, 2))]),
    (("amitriptyline", "clomipramine"), [(SAME, "moderate", (1, 2))]),
    (("mirtazapine", "mianserin"), [(SAME, "moderate", (1, 2))]),
    (("sertraline", "venlafaxine"), []),  # different classes
    (("sertraline", "sertraline"), []),  # the same drug twice is not two antidepressants
    (("lamotrigine", "valproate"), [(LAMOTRIGINE, "high", (1, 2))]),  # not antidepressants
]


@pytest.mark.parametrize(("names", "expected"), SAME_CLASS_CASES)
def test_two_antidepressants_of_the_same_class_at_once(names, expected):
    first, second = names
    assert found([trial(1, first, 0, 60), trial(2, second, 60, 90)]) == expected


def test_same_class_trials_one_after_the_other_are_fine():
    assert found([trial(1, "sertraline", 0, 60), trial(2, "citalopram", 61, 90)]) == []


def test_warnings_come_most_severe_first_with_their_sources():
    trials = [
        trial(1, "lamotrigine", 0, 100),
        trial(2, "folic acid", 10, 20),
        trial(3, "sertraline", 0, 60, dose="300"),
        trial(4, "citalopram", 50, 70),
        trial(5, "phenelzine", 65, 90),
    ]
    result = warnings.history_warnings(trials, as_of=AS_OF, max_dose_mg=MAX_DOSES)
    assert [(w.code, w.trial_ids) for w in result] == [
        (OVERLAP, (4, 5)),
        (WASHOUT, (3, 5)),  # sertraline stopped 5 days before phenelzine
        (DOSE, (3,)),
        (SAME, (3, 4)),
        (LAMOTRIGINE, (1, 2)),
    ]
    assert all(w.sources and all(isinstance(s, str) for s in w.sources) for w in result)
    assert result[0].sources == (warnings.NICE_NG222, warnings.SPS_SWITCHING)


def test_no_trials_no_warnings():
    assert warnings.history_warnings([], as_of=AS_OF) == []
