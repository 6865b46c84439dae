"""The drug catalog: loaded from the data file by a migration, brand names resolve."""

import csv
from decimal import Decimal

import pytest

from treatments.catalog import DRUGS_FILE, read_catalog
from treatments.models import Drug
from treatments.selectors import resolve_drug

REFERENCE_DRUGS = {
    "citalopram",
    "escitalopram",
    "fluoxetine",
    "paroxetine",
    "sertraline",
    "fluvoxamine",
    "venlafaxine",
    "desvenlafaxine",
    "duloxetine",
    "levomilnacipran",
    "milnacipran",
    "amitriptyline",
    "nortriptyline",
    "imipramine",
    "desipramine",
    "clomipramine",
    "doxepin",
    "trimipramine",
    "protriptyline",
    "amoxapine",
    "maprotiline",
    "phenelzine",
    "tranylcypromine",
    "isocarboxazid",
    "selegiline",
    "moclobemide",
    "bupropion",
    "mirtazapine",
    "trazodone",
    "nefazodone",
    "vortioxetine",
    "vilazodone",
    "agomelatine",
    "mianserin",
    "reboxetine",
}
NOT_ANTIDEPRESSANTS = {
    "lithium",
    "aripiprazole",
    "brexpiprazole",
    "quetiapine",
    "olanzapine",
    "cariprazine",
    "liothyronine",
    "lamotrigine",
    "methylphenidate",
    "modafinil",
    "valproate",
    "carbamazepine",
    "phenytoin",
    "phenobarbital",
    "rifampin",
    "folic acid",
    "estrogen-containing contraceptive",
    "buspirone",
    "pramipexole",
    "levothyroxine",
    "primidone",
    "dextromethorphan",
    "perphenazine",
    "chlordiazepoxide",
}


@pytest.mark.django_db
def test_the_migration_loads_every_row_of_the_data_file():
    with DRUGS_FILE.open() as handle:
        names = {row["name"] for row in csv.DictReader(handle)}
    assert set(Drug.objects.values_list("name", flat=True)) == names


@pytest.mark.django_db
def test_every_reference_antidepressant_has_its_doses_and_sources():
    for name in REFERENCE_DRUGS:
        drug = Drug.objects.get(name=name)
        assert drug.is_antidepressant, name
        assert drug.min_adequate_dose_mg > 0 and drug.max_dose_mg >= drug.min_adequate_dose_mg
        assert drug.min_dose_source and drug.max_dose_source


@pytest.mark.django_db
def test_augmentation_and_interaction_agents_are_not_antidepressants():
    drugs = Drug.objects.filter(name__in=NOT_ANTIDEPRESSANTS)
    assert drugs.count() == len(NOT_ANTIDEPRESSANTS)
    assert not drugs.filter(is_antidepressant=True).exists()
    augmentation = set(drugs.filter(is_augmentation_agent=True).values_list("name", flat=True))
    assert {"lithium", "aripiprazole", "quetiapine", "liothyronine"} <= augmentation
    assert "valproate" not in augmentation


@pytest.mark.django_db
def test_figures_match_the_reference():
    sertraline = Drug.objects.get(name="sertraline")
    assert (sertraline.drug_class, sertraline.min_adequate_dose_mg, sertraline.max_dose_mg) == (
        "SSRI",
        50,
        200,
    )
    assert Drug.objects.get(name="liothyronine").min_adequate_dose_mg == Decimal("0.025")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "typed,generic",
    [
        ("Zoloft", "sertraline"),
        ("zoloft", "sertraline"),
        ("SERTRALINE", "sertraline"),
        ("  Effexor ", "venlafaxine"),
        ("Lamictal", "lamotrigine"),
        ("Emsam", "selegiline"),
        ("folic  acid", "folic acid"),
    ],
)
def test_brand_and_generic_names_resolve_case_insensitively(typed, generic):
    assert resolve_drug(typed).name == generic


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["", "   ", "aspirinx", "sert"])
def test_unknown_names_do_not_resolve(typed):
    assert resolve_drug(typed) is None


def test_the_data_file_parses_without_a_database():
    rows = read_catalog()
    assert len(rows) == len({row["name"] for row in rows})
    assert all(row["name"] == row["name"].lower() for row in rows)
