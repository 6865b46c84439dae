"""Augmentation agents and other medicines are recorded apart from antidepressant trials: their
own form (dates, dose, notes; outcome for augmentation agents), their own table, and never in
"why trials do not count"."""

from datetime import timedelta

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from core.dates import today
from tests.factories import TrialFactory, drug
from treatments.models import Trial

pytestmark = pytest.mark.django_db


def add_url(patient):
    return reverse("treatments:medicine-add", args=[patient.pk])


def data(medicine, **overrides):
    values = {
        "drug": medicine.pk,
        "start_date": (today() - timedelta(days=30)).isoformat(),
        "end_date": "",
        "dose_mg": "600",
        "outcome": "response",
        "notes": "levels fine",
    }
    values.update(overrides)
    return values


def test_the_trial_form_offers_antidepressants_only(login, clinician, patient):
    form = login(clinician).get(reverse("treatments:trial-add", args=[patient.pk])).context["form"]

    offered = set(form.fields["drug"].queryset.values_list("name", flat=True))
    assert "sertraline" in offered
    assert not {"lithium", "valproate", "rifampin"} & offered


def test_the_medicine_form_offers_the_other_medicines_only(login, clinician, patient):
    form = login(clinician).get(add_url(patient)).context["form"]

    offered = set(form.fields["drug"].queryset.values_list("name", flat=True))
    assert {"lithium", "valproate", "rifampin", "estrogen-containing contraceptive"} <= offered
    assert "sertraline" not in offered
    assert "adherence" not in form.fields


def test_an_augmentation_agent_keeps_its_outcome(login, clinician, patient):
    response = login(clinician).post(add_url(patient), data(drug("lithium")))

    assert response.status_code == 302
    lithium = Trial.objects.get(patient=patient)
    assert (lithium.drug.name, lithium.outcome, lithium.adherence, lithium.notes) == (
        "lithium",
        "response",
        "unknown",
        "levels fine",
    )
    assert AuditEvent.objects.filter(action="create", object_type="trial").exists()


def test_another_medicine_asks_no_outcome(login, clinician, patient):
    login(clinician).post(add_url(patient), data(drug("valproate"), outcome="response"))

    assert Trial.objects.get(patient=patient).outcome == "unknown"


def test_an_antidepressant_cannot_be_added_as_another_medicine(login, clinician, patient):
    response = login(clinician).post(add_url(patient), data(drug("sertraline")))

    assert response.status_code == 200
    assert "drug" in response.context["form"].errors
    assert not Trial.objects.exists()


def test_medicines_have_their_own_table_and_never_explain_the_trd_status(login, clinician, patient):
    TrialFactory(patient=patient, drug=drug("lithium"), dose_mg=600)
    TrialFactory(
        patient=patient,
        drug=drug("sertraline"),
        start_date=today() - timedelta(days=20),
        end_date=None,
        outcome="ongoing",
    )

    html = login(clinician).get(patient.get_absolute_url()).content.decode()
    why = html.split("Why trials do not count")[1].split("</ul>")[0]
    trials = html.split('id="trial-table"')[1].split("</table>")[0]
    medicines = html.split('id="medicine-table"')[1].split("</table>")[0]

    assert "sertraline" in why and "lithium" not in why
    assert "sertraline" in trials and "lithium" not in trials
    assert "lithium" in medicines and "augmentation agent" in medicines


def test_editing_a_medicine_through_the_trial_url_goes_to_its_own_form(login, clinician, patient):
    lithium = TrialFactory(patient=patient, drug=drug("lithium"), dose_mg=600)

    response = login(clinician).get(reverse("treatments:trial-edit", args=[patient.pk, lithium.pk]))

    assert response["Location"] == reverse(
        "treatments:medicine-edit", args=[patient.pk, lithium.pk]
    )


def test_a_medicine_is_edited_with_its_version(login, clinician, patient):
    lithium = TrialFactory(patient=patient, drug=drug("lithium"), dose_mg=600)
    client = login(clinician)
    url = reverse("treatments:medicine-edit", args=[patient.pk, lithium.pk])

    assert '<input type="hidden" name="version" value="1"' in client.get(url).content.decode()
    response = client.post(
        url,
        data(
            drug("lithium"), dose_mg="900", version="1", start_date=lithium.start_date.isoformat()
        ),
    )

    assert response.status_code == 302
    lithium.refresh_from_db()
    assert (lithium.dose_mg, lithium.version) == (900, 2)


@pytest.mark.parametrize("name", ["trial-edit", "therapy-edit"])
def test_the_trial_and_therapy_forms_carry_their_version(login, clinician, patient, name):
    from tests.factories import TherapyFactory

    record = (
        TrialFactory(patient=patient) if name == "trial-edit" else TherapyFactory(patient=patient)
    )
    page = login(clinician).get(reverse(f"treatments:{name}", args=[patient.pk, record.pk]))

    assert '<input type="hidden" name="version" value="1"' in page.content.decode()
