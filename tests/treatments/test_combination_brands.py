"""Combination brands (Symbyax, Auvelity, Triavil/Etrafon, Limbitrol) resolve to all their
components: never to one drug alone."""

from types import SimpleNamespace

import pytest

from treatments.catalog import (
    EXACT,
    find_combination,
    picker_entry,
    read_catalog,
    search_drugs,
)
from treatments.models import Drug
from treatments.selectors import resolve_components, resolve_drug

CATALOG = [SimpleNamespace(**row) for row in read_catalog()]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "typed,components",
    [
        ("Symbyax", ["olanzapine", "fluoxetine"]),
        ("auvelity", ["dextromethorphan", "bupropion"]),
        ("Triavil", ["perphenazine", "amitriptyline"]),
        ("ETRAFON", ["perphenazine", "amitriptyline"]),
        (" Limbitrol ", ["chlordiazepoxide", "amitriptyline"]),
    ],
)
def test_a_combination_brand_resolves_to_all_its_components(typed, components):
    assert [d.name for d in resolve_components(typed)] == components


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["Prozac", "sertraline", "Sym", "", "unknown"])
def test_anything_else_resolves_to_no_components(typed):
    assert resolve_components(typed) == []


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["Symbyax", "Auvelity", "Limbitrol"])
def test_a_combination_brand_never_resolves_to_one_drug(typed):
    assert resolve_drug(typed) is None


@pytest.mark.django_db
def test_olanzapines_own_brand_still_resolves():
    assert resolve_drug("Zyprexa").name == "olanzapine"


def test_typing_a_combination_brand_lists_each_component_with_its_partner():
    matches = search_drugs("Symbyax", CATALOG)
    assert [(m.drug.name, m.rank) for m in matches] == [
        ("fluoxetine", EXACT),
        ("olanzapine", EXACT),
    ]
    assert [m.label for m in matches] == [
        "Symbyax → fluoxetine (with olanzapine)",
        "Symbyax → olanzapine (with fluoxetine)",
    ]
    assert all(m.by_combination for m in matches)


def test_a_drugs_own_names_win_over_a_combination_brand():
    (match,) = [m for m in search_drugs("amitriptyline", CATALOG) if m.drug.name == "amitriptyline"]
    assert (match.matched, match.by_combination) == ("amitriptyline", False)


def test_a_prefix_of_a_combination_brand_finds_its_components():
    assert {m.drug.name for m in search_drugs("limbi", CATALOG)} == {
        "chlordiazepoxide",
        "amitriptyline",
    }


@pytest.mark.django_db
def test_the_picker_offers_combination_brands_without_an_exact_match():
    brands = picker_entry(Drug.objects.get(name="fluoxetine"))["brands"]
    assert "Symbyax (with olanzapine)" in brands
    # The browser picks a drug on an exact brand match only: "symbyax" alone picks none.
    assert "Symbyax" not in brands


def test_the_description_names_the_components_in_order():
    assert find_combination("symbyax").describe() == "Symbyax is olanzapine + fluoxetine"
