"""Tests for the next-line options knowledge base (treatments/data/options.yaml)."""

import pytest
import yaml

from treatments.options import (
    CATEGORIES,
    OPTION_KEYS,
    OPTIONS_FILE,
    SOURCE_TITLES,
    THERAPY_KINDS,
    Option,
    in_discussion_order,
    load_options,
    options_for_patient,
)

EXPECTED_KEYS = (
    "switch_antidepressant",
    "augmentation",
    "lamotrigine",
    "stimulants",
    "psychotherapy",
    "ect",
    "tms",
    "ketamine_esketamine",
    "vns",
    "dbs",
    "mst",
    "psychedelic_trials",
    "lifestyle",
    "review_diagnosis",
    "review_adherence",
    "review_interactions_and_conditions",
    "pharmacogenomic_testing",
)

EXPECTED_SOURCE_TITLES = {
    "Causes and Treatment Options for TRD",
    "What Causes Treatment Resistant Depression",
    "Understanding TRD: What You Need to Know",
    "Understanding and Managing TRD in the U.S.",
    "What is Treatment Resistant Depression (TRD)?",
}


def _by_key():
    return {option.key: option for option in load_options()}


def _tried_keys(therapy_kinds=(), drug_names=(), drug_classes=()):
    return {
        item.option.key
        for item in options_for_patient(
            therapy_kinds=therapy_kinds, drug_names=drug_names, drug_classes=drug_classes
        )
        if item.already_tried
    }


def _raw_entries():
    return yaml.safe_load(OPTIONS_FILE.read_text(encoding="utf-8"))


def _write(tmp_path, entries):
    path = tmp_path / "options.yaml"
    path.write_text(yaml.safe_dump(entries, sort_keys=False), encoding="utf-8")
    return path


# --- the shipped file ---------------------------------------------------------------------


def test_the_options_file_loads_with_exactly_the_17_keys_in_order():
    options = load_options()
    assert OPTION_KEYS == EXPECTED_KEYS
    assert tuple(option.key for option in options) == EXPECTED_KEYS
    assert all(isinstance(option, Option) for option in options)


def test_loading_the_default_file_twice_returns_the_cached_result():
    assert load_options() is load_options()


def test_source_titles_are_the_five_seed_short_titles():
    assert SOURCE_TITLES == EXPECTED_SOURCE_TITLES


def test_every_source_cited_is_one_of_the_five_seed_titles():
    for option in load_options():
        assert option.sources, option.key
        assert set(option.sources) <= SOURCE_TITLES, option.key


def test_every_option_has_a_title_summary_considered_when_and_sources():
    for option in load_options():
        assert option.title.strip(), option.key
        assert option.summary.strip(), option.key
        assert option.considered_when.strip(), option.key
        assert len(option.sources) >= 1, option.key


def test_every_option_has_a_known_category():
    for option in load_options():
        assert option.category in CATEGORIES, option.key


def test_neuromodulation_options_are_procedures():
    by_key = _by_key()
    for key in ("ect", "tms", "vns", "dbs", "mst"):
        assert by_key[key].category == "procedure", key


def test_every_entry_lists_its_fields_in_the_agreed_order():
    fields = [
        "key",
        "title",
        "category",
        "summary",
        "considered_when",
        "cautions",
        "sources",
        "suicide_risk_related",
        "already_tried_when",
    ]
    for entry in _raw_entries():
        assert list(entry) == fields, entry["key"]


def test_lithium_and_ketamine_esketamine_are_linked_to_suicide_risk_each_with_its_source():
    flagged = {option.key: option for option in load_options() if option.suicide_risk_related}
    assert set(flagged) == {"augmentation", "ketamine_esketamine"}  # lithium is an add-on
    lithium = [c for c in flagged["augmentation"].caution_notes if c.suicide_risk]
    assert len(lithium) == 1 and "lithium" in lithium[0].text
    assert lithium[0].sources == ("What Causes Treatment Resistant Depression",)
    ketamine = [c for c in flagged["ketamine_esketamine"].caution_notes if c.suicide_risk]
    assert {s for c in ketamine for s in c.sources} == {
        "Causes and Treatment Options for TRD",
        "What Causes Treatment Resistant Depression",
    }
    assert all(c.render().startswith("Suicide risk: ") for c in lithium + ketamine)


def test_every_caution_reports_a_source_among_the_options_own():
    for option in load_options():
        assert len(option.cautions) == len(option.caution_notes), option.key
        for caution, line in zip(option.caution_notes, option.cautions, strict=True):
            assert caution.sources and set(caution.sources) <= set(option.sources), option.key
            assert f"({'; '.join(caution.sources)})" in line, line


ORDERS = (
    "advise",
    "avoid",
    "use ",
    "test ",
    "review ",
    "do ",
    "don't",
    "stop ",
    "check ",
    "tell ",
    "consider ",
    "take ",
    "patients should",
    "you should",
)


def test_cautions_report_what_a_source_says_rather_than_give_orders():
    for option in load_options():
        for caution in option.caution_notes:
            text = caution.text.lower()
            assert text.startswith(("the source ", "the sources ")), caution.text
            assert not any(f"; {order}" in text or f". {order}" in text for order in ORDERS), (
                caution.text
            )


def test_the_out_of_date_esketamine_statement_carries_the_fact_and_its_reference():
    by_key = _by_key()
    [stale] = [c for c in by_key["ketamine_esketamine"].caution_notes if c.out_of_date]
    assert "not approved" in stale.text
    assert "2020" in stale.out_of_date.fact and "Spravato" in stale.out_of_date.reference
    line = stale.render()
    assert line.index("not approved") < line.index("Out of date: ") < line.index("Spravato")


def test_the_key_cautions_from_the_documents_are_present():
    by_key = _by_key()
    lamotrigine = " ".join(by_key["lamotrigine"].cautions).lower()
    for interaction in (
        "contraceptive",
        "rifampin",
        "phenobarbital",
        "valpro",
        "folic acid",
        "alcohol",
    ):
        assert interaction in lamotrigine, interaction
    assert "severe" in " ".join(by_key["ect"].cautions).lower()
    assert "severe" in " ".join(by_key["dbs"].cautions).lower()
    assert "no clear evidence" in " ".join(by_key["stimulants"].cautions).lower()
    assert "suicid" in " ".join(by_key["ketamine_esketamine"].cautions).lower()


def test_tried_rules_only_use_known_therapy_kinds():
    for option in load_options():
        assert option.tried_therapy_kinds <= THERAPY_KINDS, option.key


# --- already tried ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("therapy_kind", "option_key"),
    [
        ("ect", "ect"),
        ("tms", "tms"),
        ("vns", "vns"),
        ("dbs", "dbs"),
        ("mst", "mst"),
        ("psychotherapy", "psychotherapy"),
        ("psychedelic_trial", "psychedelic_trials"),
        ("ketamine", "ketamine_esketamine"),
        ("esketamine", "ketamine_esketamine"),
    ],
)
def test_a_recorded_therapy_marks_only_its_option_as_already_tried(therapy_kind, option_key):
    assert _tried_keys(therapy_kinds=[therapy_kind]) == {option_key}


@pytest.mark.parametrize(
    ("drug_name", "drug_class", "option_key"),
    [
        ("lithium", "Mood stabiliser", "augmentation"),
        ("aripiprazole", "Antipsychotic (SGA)", "augmentation"),
        ("quetiapine", "Antipsychotic (SGA)", "augmentation"),
        ("liothyronine", "Thyroid hormone", "augmentation"),
        ("lamotrigine", "Anticonvulsant / mood stabiliser", "lamotrigine"),
        ("methylphenidate", "Stimulant", "stimulants"),
        ("modafinil", "Wake-promoting agent", "stimulants"),
    ],
)
def test_a_recorded_drug_marks_only_its_option_as_already_tried(drug_name, drug_class, option_key):
    assert _tried_keys(drug_names=[drug_name], drug_classes=[drug_class]) == {option_key}


def test_an_atypical_antipsychotic_counts_as_augmentation_by_class_alone():
    assert _tried_keys(drug_classes=["Antipsychotic (SGA)"]) == {"augmentation"}


def test_a_plain_ssri_marks_nothing_as_already_tried():
    assert _tried_keys(drug_names=["sertraline"], drug_classes=["SSRI"]) == set()


def test_an_other_therapy_marks_nothing_as_already_tried():
    assert _tried_keys(therapy_kinds=["other"]) == set()


def test_an_empty_record_marks_nothing_as_already_tried():
    assert _tried_keys() == set()


def test_matching_ignores_case_and_surrounding_spaces():
    assert _tried_keys(therapy_kinds=[" ECT "], drug_names=["Lithium"]) == {"ect", "augmentation"}


def test_options_for_patient_returns_all_17_in_file_order_with_several_tried():
    result = options_for_patient(
        therapy_kinds=["ect", "esketamine"],
        drug_names=["sertraline", "lithium", "lamotrigine"],
        drug_classes=["SSRI", "Mood stabiliser"],
    )
    assert tuple(item.option.key for item in result) == EXPECTED_KEYS
    tried = {item.option.key for item in result if item.already_tried}
    assert tried == {"ect", "ketamine_esketamine", "augmentation", "lamotrigine"}


def test_options_for_patient_accepts_generators():
    result = options_for_patient(
        therapy_kinds=(k for k in ["tms"]),
        drug_names=iter([]),
        drug_classes=iter([]),
    )
    assert [item.option.key for item in result if item.already_tried] == ["tms"]


def test_in_discussion_order_puts_untried_options_first_each_group_in_file_order():
    tried = {"augmentation", "ect", "ketamine_esketamine"}
    result = in_discussion_order(
        options_for_patient(
            therapy_kinds=["ect", "ketamine"], drug_names=["lithium"], drug_classes=[]
        )
    )

    keys = [item.option.key for item in result]
    assert keys == [k for k in EXPECTED_KEYS if k not in tried] + [
        k for k in EXPECTED_KEYS if k in tried
    ]
    assert [item.already_tried for item in result] == [False] * 14 + [True] * 3


def test_in_discussion_order_keeps_file_order_when_nothing_was_tried():
    untried = options_for_patient(therapy_kinds=[], drug_names=[], drug_classes=[])
    assert [item.option.key for item in in_discussion_order(untried)] == list(EXPECTED_KEYS)


# --- validation ---------------------------------------------------------------------------


def test_a_file_with_a_missing_key_raises_value_error(tmp_path):
    entries = [entry for entry in _raw_entries() if entry["key"] != "vns"]
    with pytest.raises(ValueError, match="vns"):
        load_options(_write(tmp_path, entries))


def test_a_file_with_keys_out_of_order_raises_value_error(tmp_path):
    entries = _raw_entries()
    entries[0], entries[1] = entries[1], entries[0]
    with pytest.raises(ValueError, match="order"):
        load_options(_write(tmp_path, entries))


def test_a_file_with_a_duplicated_key_raises_value_error(tmp_path):
    entries = _raw_entries()
    entries.append(dict(entries[0]))
    with pytest.raises(ValueError, match="duplicated"):
        load_options(_write(tmp_path, entries))


def test_a_file_citing_an_unknown_source_raises_value_error(tmp_path):
    entries = _raw_entries()
    entries[2]["sources"] = ["Some Blog Post"]
    with pytest.raises(ValueError, match="unknown source 'Some Blog Post'"):
        load_options(_write(tmp_path, entries))


def test_a_file_with_no_sources_for_an_option_raises_value_error(tmp_path):
    entries = _raw_entries()
    entries[3]["sources"] = []
    with pytest.raises(ValueError, match="sources"):
        load_options(_write(tmp_path, entries))


def test_a_file_with_an_unknown_category_raises_value_error(tmp_path):
    entries = _raw_entries()
    entries[0]["category"] = "miracle"
    with pytest.raises(ValueError, match="category"):
        load_options(_write(tmp_path, entries))


def test_a_file_with_an_unknown_therapy_kind_raises_value_error(tmp_path):
    entries = _raw_entries()
    entries[5]["already_tried_when"] = {"therapy_kinds": ["electroshock"]}
    with pytest.raises(ValueError, match="therapy kind"):
        load_options(_write(tmp_path, entries))


def _ketamine_index(entries):
    return next(i for i, e in enumerate(entries) if e["key"] == "ketamine_esketamine")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda e: e.update(cautions=["Plain text with no source."]), "mapping"),
        (lambda e: e["cautions"][0].pop("sources"), "must cite its source"),
        (lambda e: e["cautions"][0].update(sources=["Some Blog Post"]), "do not list"),
        (lambda e: e.update(sources=["Causes and Treatment Options for TRD"]), "do not list"),
        (lambda e: e["cautions"][0].update(colour="red"), "unknown caution field"),
        (lambda e: [c.pop("suicide_risk", None) for c in e["cautions"]], "suicide risk"),
        (lambda e: e.update(suicide_risk_related=False), "suicide risk"),
        (lambda e: e["cautions"][1]["out_of_date"].pop("reference"), "reference"),
    ],
    ids=[
        "plain-string",
        "no-source",
        "unknown-source",
        "source-not-the-options",
        "unknown-field",
        "flag-without-a-reason",
        "reason-without-the-flag",
        "out-of-date-without-reference",
    ],
)
def test_a_malformed_caution_raises_value_error(tmp_path, change, message):
    entries = _raw_entries()
    change(entries[_ketamine_index(entries)])
    with pytest.raises(ValueError, match=message):
        load_options(_write(tmp_path, entries))


def test_a_file_with_a_missing_field_raises_value_error(tmp_path):
    entries = _raw_entries()
    del entries[0]["summary"]
    with pytest.raises(ValueError, match="summary"):
        load_options(_write(tmp_path, entries))


def test_a_file_that_is_not_a_list_raises_value_error(tmp_path):
    path = tmp_path / "options.yaml"
    path.write_text("key: ect\n", encoding="utf-8")
    with pytest.raises(ValueError, match="list"):
        load_options(path)


def test_a_valid_copy_of_the_file_loads_from_another_path(tmp_path):
    options = load_options(_write(tmp_path, _raw_entries()))
    assert options == load_options()
