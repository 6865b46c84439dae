"""Searching the drug catalog by generic or brand name: what the drug picker offers first."""

import json
import re
from types import SimpleNamespace

import pytest
from django import forms

from treatments.catalog import (
    COMMON_ANTIDEPRESSANTS,
    EXACT,
    PREFIX,
    SUBSTRING,
    drug_label,
    read_catalog,
    search_drugs,
)
from treatments.models import Drug
from treatments.selectors import resolve_drug
from treatments.widgets import DrugChoiceField

CATALOG = [SimpleNamespace(**row) for row in read_catalog()]


def names(text, drugs=CATALOG) -> list[str]:
    return [match.drug.name for match in search_drugs(text, drugs)]


def fake(name, brands=(), antidepressant=True):
    return SimpleNamespace(name=name, brand_names=list(brands), is_antidepressant=antidepressant)


@pytest.mark.parametrize(
    "typed,generic",
    [
        ("Lexapro", "escitalopram"),
        ("Effexor", "venlafaxine"),
        ("Zoloft", "sertraline"),
        ("Cipralex", "escitalopram"),
        ("Wellbutrin", "bupropion"),
        ("sertraline", "sertraline"),
    ],
)
def test_a_brand_or_generic_name_puts_its_drug_first_as_an_exact_match(typed, generic):
    first = search_drugs(typed, CATALOG)[0]
    assert (first.drug.name, first.rank) == (generic, EXACT)


def test_a_brand_match_says_which_brand_matched():
    first = search_drugs("lexapro", CATALOG)[0]
    assert (first.matched, first.by_brand) == ("Lexapro", True)
    assert search_drugs("escitalopram", CATALOG)[0].by_brand is False


def test_lexapro_never_offers_levomilnacipran():
    assert "levomilnacipran" not in names("Lexapro")
    assert names("Lexapro") == ["escitalopram"]


def test_ven_offers_venlafaxine_before_drugs_that_only_contain_ven():
    # desvenlafaxine (common) before nortriptyline (by its brand Aventyl), both containing "ven".
    assert names("ven") == ["venlafaxine", "desvenlafaxine", "nortriptyline"]
    assert [m.rank for m in search_drugs("ven", CATALOG)] == [PREFIX, SUBSTRING, SUBSTRING]


def test_within_a_rank_common_antidepressants_come_before_rare_ones_then_the_alphabet():
    drugs = [
        fake("venrare"),
        fake("venagent", antidepressant=False),
        fake("venlafaxine"),
        fake("venabc"),
    ]
    assert names("ven", drugs) == ["venlafaxine", "venabc", "venrare", "venagent"]


def test_exact_beats_prefix_beats_substring_whatever_the_commonness():
    drugs = [fake("sertraline"), fake("abc", brands=["Xsert"]), fake("sert", antidepressant=False)]
    assert names("sert", drugs) == ["sert", "sertraline", "abc"]


def test_a_drug_is_ranked_by_its_best_matching_name():
    # "Lustral" starts with "lu"; that the generic name does not is no reason to rank it lower.
    drugs = [fake("sertraline", brands=["Lustral"]), fake("alunbrig")]
    assert [(m.drug.name, m.rank) for m in search_drugs("lu", drugs)] == [
        ("sertraline", PREFIX),
        ("alunbrig", SUBSTRING),
    ]


@pytest.mark.parametrize("typed", ["zoloft", "ZOLOFT", "  Zoloft  ", "zOlOfT\t"])
def test_search_ignores_case_and_outer_spaces(typed):
    assert names(typed)[0] == "sertraline"


def test_search_treats_runs_of_inner_spaces_as_one():
    first = search_drugs("folic    acid", CATALOG)[0]
    assert (first.drug.name, first.rank) == ("folic acid", EXACT)


def test_unknown_text_matches_nothing():
    assert search_drugs("xyz", CATALOG) == []


def test_no_text_lists_the_whole_catalog_common_antidepressants_first():
    listed = names("   ")
    assert sorted(listed) == sorted(drug.name for drug in CATALOG)
    common = len(COMMON_ANTIDEPRESSANTS)
    assert set(listed[:common]) == COMMON_ANTIDEPRESSANTS
    assert listed[:common] == sorted(listed[:common])
    assert listed[common] == "agomelatine"  # other antidepressants next, alphabetically
    assert listed[-1] == "valproate"  # then the agents that are not antidepressants


def test_every_common_antidepressant_is_in_the_catalog_as_an_antidepressant():
    by_name = {drug.name: drug for drug in CATALOG}
    assert all(by_name[name].is_antidepressant for name in COMMON_ANTIDEPRESSANTS)


def test_a_plain_list_label_starts_with_the_generic_name_then_brands_and_class():
    by_name = {drug.name: drug for drug in CATALOG}
    assert drug_label(by_name["escitalopram"]) == "escitalopram (Lexapro, Cipralex) — SSRI"
    assert drug_label(by_name["lithium"]).endswith("Mood stabiliser (not an antidepressant)")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "typed",
    [
        "Lexapro",
        "Effexor",
        " zoloft ",
        "Fetzima",
        "lamictal",
        "folic  acid",
        "ven",
        "lex",
        "xyz",
        "",
    ],
)
def test_resolve_drug_agrees_with_the_top_exact_match_of_the_search(typed):
    matches = search_drugs(typed, CATALOG)
    expected = matches[0].drug.name if matches and matches[0].rank == EXACT else None
    resolved = resolve_drug(typed)
    assert (resolved.name if resolved else None) == expected


@pytest.mark.django_db
def test_another_form_can_offer_a_narrower_list_through_the_same_picker():
    class OtherMedicineForm(forms.Form):
        drug = DrugChoiceField(Drug.objects.filter(is_antidepressant=False))

    html = str(OtherMedicineForm()["drug"])
    data = re.search(r'<script id="id_drug_catalog" type="application/json">(.*?)</script>', html)
    offered = [entry["name"] for entry in json.loads(data.group(1))]
    assert offered[:2] == ["aripiprazole", "brexpiprazole"]
    assert "sertraline" not in offered and "sertraline" not in html
    assert "lithium (Lithobid, Priadel, Camcolit) — Mood stabiliser (not an antidepressant)" in html
    assert "js/drug_picker.js" in str(OtherMedicineForm().media)
    sertraline = Drug.objects.get(name="sertraline")
    assert "drug" in OtherMedicineForm({"drug": sertraline.pk}).errors
