"""GET /api/v1/drugs/: the shared drug catalog."""

from treatments.models import Drug

from .helpers import DRUGS_URL, as_number


def by_name(response) -> dict:
    return {row["name"]: row for row in response.json()}


def test_it_lists_sertraline_as_an_ssri_with_numeric_doses(as_clinician):
    response = as_clinician.get(DRUGS_URL)

    assert response.status_code == 200
    sertraline = by_name(response)["sertraline"]
    assert sertraline["drug_class"] == "SSRI"
    assert sertraline["is_antidepressant"] is True
    assert as_number(sertraline["min_adequate_dose_mg"]) == 50
    assert as_number(sertraline["max_dose_mg"]) == 200


def test_it_marks_lithium_as_not_an_antidepressant(as_clinician):
    lithium = by_name(as_clinician.get(DRUGS_URL))["lithium"]

    assert lithium["is_antidepressant"] is False
    assert lithium["drug_class"] == "Mood stabiliser"


def test_it_lists_the_whole_catalog_once_each_in_name_order(as_clinician):
    rows = as_clinician.get(DRUGS_URL).json()

    names = [row["name"] for row in rows]
    assert isinstance(rows, list)
    assert len(names) == Drug.objects.count() > 20
    assert names == sorted(names)
    assert len(set(names)) == len(names)


def test_every_drug_has_a_lower_case_generic_name_and_the_contract_fields(as_clinician):
    for row in as_clinician.get(DRUGS_URL).json():
        assert row["name"] == row["name"].lower().strip(), row
        assert row["name"]
        assert isinstance(row["drug_class"], str) and row["drug_class"]
        assert isinstance(row["is_antidepressant"], bool)
        for field in ("min_adequate_dose_mg", "max_dose_mg"):
            assert row[field] is None or as_number(row[field]) > 0, row


def test_a_drugs_minimum_adequate_dose_is_not_above_its_maximum(as_clinician):
    for row in as_clinician.get(DRUGS_URL).json():
        if row["min_adequate_dose_mg"] is not None and row["max_dose_mg"] is not None:
            assert row["min_adequate_dose_mg"] <= row["max_dose_mg"], row["name"]


def test_it_shows_the_values_stored_in_the_catalog(as_clinician):
    rows = by_name(as_clinician.get(DRUGS_URL))
    for drug in Drug.objects.all():
        row = rows[drug.name]
        assert row["drug_class"] == drug.drug_class
        assert row["is_antidepressant"] == drug.is_antidepressant
        if drug.max_dose_mg is not None:
            assert as_number(row["max_dose_mg"]) == float(drug.max_dose_mg)


def test_it_needs_a_token(anonymous):
    assert anonymous.get(DRUGS_URL).status_code == 401


def test_an_outsider_sees_the_same_shared_catalog(as_clinician, as_outsider):
    mine = as_clinician.get(DRUGS_URL)
    theirs = as_outsider.get(DRUGS_URL)

    assert theirs.status_code == 200
    assert theirs.json() == mine.json()


def test_the_catalog_cannot_be_changed_through_the_api(as_clinician):
    count = Drug.objects.count()

    response = as_clinician.post(
        DRUGS_URL,
        {"name": "newdrug", "drug_class": "SSRI", "is_antidepressant": True},
        format="json",
    )

    assert response.status_code == 405
    assert Drug.objects.count() == count
    assert not Drug.objects.filter(name="newdrug").exists()
