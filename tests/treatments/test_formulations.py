"""Formulations with their own figures (fluoxetine weekly, paroxetine CR, selegiline patch or
oral): the model's rule, the facts the TRD rule gets, the dose limits, and the trial form."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.dates import today
from tests.factories import PatientFactory, drug
from treatments import trd
from treatments.catalog import formulation, formulations_of
from treatments.forms import TrialForm
from treatments.models import Trial

pytestmark = pytest.mark.django_db

START = date(2024, 1, 1)


def trial(name, dose, formulation="", days=56, **extra) -> Trial:
    return Trial(
        patient=PatientFactory(),
        drug=drug(name),
        formulation=formulation,
        start_date=START,
        end_date=START + timedelta(days=days),
        dose_mg=Decimal(dose),
        adherence="good",
        outcome="no_response",
        **extra,
    )


def evaluated(t: Trial) -> trd.TrialEvaluation:
    return trd.evaluate_trial(t.facts(dose_changes=[]), as_of=START + timedelta(days=365))


def test_a_formulation_of_the_drug_is_accepted():
    for name, key in [
        ("fluoxetine", "weekly"),
        ("paroxetine", "cr"),
        ("selegiline", "transdermal"),
        ("selegiline", "oral"),
    ]:
        trial(name, 90 if key == "weekly" else 25 if key == "cr" else 6, key).full_clean()


def test_a_formulation_of_another_drug_is_an_error_on_formulation():
    with pytest.raises(ValidationError) as error:
        trial("sertraline", 100, "weekly").full_clean()
    assert list(error.value.message_dict) == ["formulation"]
    assert "not a formulation of sertraline" in error.value.message_dict["formulation"][0]


def test_an_unknown_formulation_names_the_drugs_own():
    with pytest.raises(ValidationError) as error:
        trial("paroxetine", 25, "weekly").full_clean()
    assert "'cr'" in error.value.message_dict["formulation"][0]


def test_the_standard_formulation_keeps_the_catalogs_figures():
    facts = trial("fluoxetine", 20).facts(dose_changes=[])
    assert facts.drug == drug("fluoxetine").facts()


def test_fluoxetine_weekly_90_mg_counts_as_an_adequate_trial():
    weekly = trial("fluoxetine", 90, "weekly")
    facts = weekly.facts(dose_changes=[])
    assert facts.drug.min_adequate_dose_mg == 90 and facts.drug.is_antidepressant
    assert facts.drug.name == "fluoxetine"  # still the same drug for "different drugs"
    evaluation = evaluated(weekly)
    assert evaluation.adequate and evaluation.counts_toward_trd


def test_fluoxetine_weekly_below_90_mg_a_week_is_not_adequate():
    assert not evaluated(trial("fluoxetine", 60, "weekly")).adequate


def test_paroxetine_cr_needs_25_mg_where_the_standard_form_needs_20():
    assert not evaluated(trial("paroxetine", 20, "cr")).adequate
    assert evaluated(trial("paroxetine", 25, "cr")).adequate
    assert evaluated(trial("paroxetine", 20)).adequate


def test_oral_selegiline_is_not_an_antidepressant_trial():
    oral = trial("selegiline", 10, "oral")
    assert oral.facts(dose_changes=[]).drug.is_antidepressant is False
    evaluation = evaluated(oral)
    assert not evaluation.adequate and not evaluation.counts_toward_trd
    assert "not an antidepressant" in " ".join(evaluation.reasons)


def test_the_selegiline_patch_counts_at_its_adequate_dose():
    assert evaluated(trial("selegiline", 6, "transdermal")).counts_toward_trd


def test_the_maximum_follows_the_formulation():
    assert trial("fluoxetine", 90, "weekly").max_dose_mg == 90
    assert trial("fluoxetine", 20).max_dose_mg == 80
    # No maximum in the reference for paroxetine CR: the immediate-release 50 does not apply.
    assert trial("paroxetine", 25, "cr").max_dose_mg is None
    assert trial("paroxetine", 25).max_dose_mg == 50


def test_a_weekly_dose_ten_times_its_maximum_is_refused_in_its_own_unit():
    with pytest.raises(ValidationError) as error:
        trial("fluoxetine", 901, "weekly").full_clean()
    assert "mg/week" in error.value.message_dict["dose_mg"][0]
    trial("fluoxetine", 900, "weekly").full_clean()


def test_a_formulation_without_a_maximum_keeps_the_drugs_limit_against_unit_errors():
    assert trial("paroxetine", 25, "cr").dose_limit_mg == 500


def test_the_dose_hint_uses_the_formulations_figures():
    assert trial("fluoxetine", 90, "weekly").dose_hint() == "weekly capsule: adequate ≥ 90 mg/week"
    assert "not counted" in trial("selegiline", 10, "oral").dose_hint()
    assert trial("fluoxetine", 20).dose_hint() == drug("fluoxetine").dose_hint()


def test_the_formulations_data_names_its_drugs():
    assert [f.key for f in formulations_of("selegiline")] == ["transdermal", "oral"]
    assert formulation("sertraline", "weekly") is None
    assert formulation("fluoxetine", "") is None


def trial_form_data(**overrides):
    start = today() - timedelta(days=100)
    data = {
        "drug": drug("fluoxetine").pk,
        "formulation": "weekly",
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=84)).isoformat(),
        "dose_mg": "90",
        "adherence": "good",
        "outcome": "no_response",
        "reason_stopped": "",
        "notes": "",
    }
    data.update(overrides)
    return data


def test_the_trial_form_saves_a_formulation(patient):
    form = TrialForm(trial_form_data(), instance=Trial(patient=patient))
    assert form.is_valid(), form.errors
    assert form.instance.formulation == "weekly"


def test_the_trial_form_refuses_a_formulation_of_another_drug(patient):
    form = TrialForm(
        trial_form_data(drug=drug("sertraline").pk, dose_mg="100"), instance=Trial(patient=patient)
    )
    assert not form.is_valid()
    assert list(form.errors) == ["formulation"]


def test_the_trial_form_offers_formulations_only_for_their_drugs(patient):
    options = TrialForm(instance=Trial(patient=patient)).formulation_options()
    by_drug = {drug_id: [o["key"] for o in forms] for drug_id, forms in options.items()}
    assert by_drug == {
        str(drug("fluoxetine").pk): ["weekly"],
        str(drug("paroxetine").pk): ["cr"],
        str(drug("selegiline").pk): ["transdermal", "oral"],
    }


def test_the_trial_page_shows_the_formulation_select_and_its_data(clinician, patient, login):
    page = login(clinician).get(reverse("treatments:trial-add", args=[patient.pk]))
    html = page.content.decode()
    assert 'name="formulation"' in html and "data-formulation-select" in html
    assert 'id="formulation-options"' in html and "js/formulation.js" in html


def test_adding_a_weekly_trial_through_the_page_stores_the_formulation(clinician, patient, login):
    data = trial_form_data(
        **{
            "doses-TOTAL_FORMS": "0",
            "doses-INITIAL_FORMS": "0",
            "doses-MIN_NUM_FORMS": "0",
            "doses-MAX_NUM_FORMS": "60",
        }
    )
    response = login(clinician).post(reverse("treatments:trial-add", args=[patient.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Trial.objects.get(patient=patient).formulation == "weekly"


def test_facts_built_without_a_trial_row_get_the_same_formulation_figures():
    from treatments.catalog import with_formulation

    standard = drug("selegiline").facts()
    assert with_formulation(standard, "") == standard
    assert with_formulation(standard, "oral").is_antidepressant is False
    assert with_formulation(standard, "oral") == trial("selegiline", 10, "oral").drug_facts()
