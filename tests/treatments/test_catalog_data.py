"""The `catalog` check: every figure of the clinical data files has its source, and every name
the data files use exists in the catalog. Runs on the files alone (no database), so a data
change that drops a source fails CI before any migration runs."""

import csv

import pytest

from treatments.catalog import (
    COMBINATIONS_FILE,
    DRUGS_FILE,
    FORMULATIONS_FILE,
    read_catalog,
    read_combinations,
    read_formulations,
)

CATALOG = {row["name"]: row for row in read_catalog()}
FORMULATIONS = read_formulations()
COMBINATIONS = read_combinations()

# (figure column, its source column) in drugs.csv as read by read_catalog.
DRUG_FIGURES = (("min_adequate_dose_mg", "min_dose_source"), ("max_dose_mg", "max_dose_source"))
FORMULATION_FIGURES = DRUG_FIGURES


@pytest.mark.parametrize("name", sorted(n for n, r in CATALOG.items() if r["is_antidepressant"]))
def test_every_antidepressant_gives_both_figures_each_with_its_source(name):
    row = CATALOG[name]
    for figure, source in DRUG_FIGURES:
        assert row[figure] is not None, f"{name}: no {figure}"
        assert row[source], f"{name}: {figure} {row[figure]} has no {source}"


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_no_drug_figure_is_given_without_a_source(name):
    row = CATALOG[name]
    for figure, source in DRUG_FIGURES:
        if row[figure] is not None:
            assert row[source], f"{name}: {figure} {row[figure]} has no {source}"


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_no_source_is_given_without_its_figure(name):
    # A source beside an empty figure would read as if the figure were sourced.
    row = CATALOG[name]
    for figure, source in DRUG_FIGURES:
        if row[source]:
            assert row[figure] is not None, f"{name}: {source} {row[source]!r} but no {figure}"


def test_a_drug_without_figures_says_why_in_its_note():
    with DRUGS_FILE.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if not row["min_adequate_mg_per_day"] and row["is_augmentation_agent"] == "true":
            assert row["note"].strip(), f"{row['name']}: an empty figure needs a note"


@pytest.mark.parametrize("form", FORMULATIONS, ids=lambda f: f"{f.drug}-{f.key}")
def test_every_formulation_figure_has_its_source(form):
    for figure, source in FORMULATION_FIGURES:
        value, cited = getattr(form, figure), getattr(form, source)
        if value is not None:
            assert cited, f"{form.drug} {form.key}: {figure} {value} has no {source}"
        else:
            assert form.note, f"{form.drug} {form.key}: an empty {figure} needs a note"


@pytest.mark.parametrize("form", FORMULATIONS, ids=lambda f: f"{f.drug}-{f.key}")
def test_every_formulation_belongs_to_a_catalog_drug_and_is_named_once(form):
    assert form.drug in CATALOG
    assert form.key and form.label and form.dose_unit
    same = [f for f in FORMULATIONS if (f.drug, f.key) == (form.drug, form.key)]
    assert len(same) == 1


def test_an_antidepressant_formulation_has_a_minimum_adequate_dose():
    for form in FORMULATIONS:
        if form.is_antidepressant:
            assert form.min_adequate_dose_mg is not None, (form.drug, form.key)


@pytest.mark.parametrize("combination", COMBINATIONS, ids=lambda c: c.brand)
def test_every_combination_component_exists_in_the_catalog(combination):
    assert len(combination.components) >= 2
    for name in combination.components:
        assert name in CATALOG, f"{combination.brand}: {name} is not in drugs.csv"


def test_a_combination_brand_is_no_single_drugs_brand():
    brands = {b.lower() for row in CATALOG.values() for b in row["brand_names"]}
    for combination in COMBINATIONS:
        assert not any(b.startswith(combination.brand.lower()) for b in brands), combination


def test_the_data_files_exist_where_the_loader_reads_them():
    assert DRUGS_FILE.exists() and FORMULATIONS_FILE.exists() and COMBINATIONS_FILE.exists()


@pytest.mark.parametrize(
    "name",
    [
        "lamotrigine",
        "methylphenidate",
        "modafinil",
        "buspirone",
        "pramipexole",
        "levothyroxine",
        "liothyronine",
        "lithium",
    ],
)
def test_the_add_ons_of_the_source_documents_are_augmentation_agents(name):
    row = CATALOG[name]
    assert row["is_augmentation_agent"] and not row["is_antidepressant"]


def test_primidone_is_recorded_as_an_interaction_partner_without_figures():
    row = CATALOG["primidone"]
    assert not row["is_antidepressant"] and not row["is_augmentation_agent"]
    assert row["min_adequate_dose_mg"] is None and row["max_dose_mg"] is None


def test_the_references_corrections_are_applied():
    assert (
        CATALOG["reboxetine"]["min_adequate_dose_mg"],
        CATALOG["vilazodone"]["min_adequate_dose_mg"],
        CATALOG["clomipramine"]["max_dose_mg"],
        CATALOG["mirtazapine"]["max_dose_mg"],
    ) == (8, 20, 250, 45)
