"""The patient page's timeline chart and long tables come from the cache until anything they
are drawn from changes: a trial (drug, dates, dose changes), a therapy, a score, a removal, the
patient; the tables' Edit links follow the reader's right to edit."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse

from core.dates import today
from patients.page_rows import timeline_cache_key
from patients.scope import PatientScope
from tests.factories import ScaleScoreFactory, TherapyFactory, TrialFactory, drug
from treatments import services
from treatments.selectors import patient_history

pytestmark = pytest.mark.django_db


def timeline_of(client, patient) -> str:
    """The chart's markup on the patient page (the table below also names drugs and doses)."""
    page = client.get(patient.get_absolute_url()).content.decode()
    return page.split('<div class="timeline"', 1)[1].split("</svg>", 1)[0]


def trial_table_of(client, patient) -> str:
    page = client.get(patient.get_absolute_url()).content.decode()
    return page.split('id="trial-table"', 1)[1].split("</table>", 1)[0]


def scope_of(user, patient):
    return PatientScope(user, patient, ip="10.0.0.1")


def edit_form(trial, **overrides):
    data = {
        "drug": trial.drug.pk,
        "start_date": trial.start_date.isoformat(),
        "end_date": trial.end_date.isoformat(),
        "dose_mg": "100",
        "adherence": "good",
        "outcome": "no_response",
        "reason_stopped": "",
        "notes": "",
        "doses-TOTAL_FORMS": "1",
        "doses-INITIAL_FORMS": "0",
        "doses-MIN_NUM_FORMS": "0",
        "doses-MAX_NUM_FORMS": "60",
        "doses-0-date": "",
        "doses-0-dose_mg": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def trial(patient):
    start = today() - timedelta(days=120)
    return TrialFactory(
        patient=patient,
        drug=drug("sertraline"),
        start_date=start,
        end_date=start + timedelta(days=70),
        dose_mg=100,
    )


def test_the_page_after_a_trial_edit_shows_the_new_drug_and_dose_in_the_timeline(
    clinician, patient, trial, login
):
    client = login(clinician)
    assert "sertraline 100 mg/day" in timeline_of(client, patient)

    response = client.post(
        reverse("treatments:trial-edit", args=[patient.pk, trial.pk]),
        edit_form(
            trial,
            drug=drug("venlafaxine").pk,
            dose_mg="75",
            **{
                "doses-0-date": (trial.start_date + timedelta(days=14)).isoformat(),
                "doses-0-dose_mg": "150",
            },
        ),
    )

    assert response.status_code == 302
    chart = timeline_of(client, patient)
    assert "sertraline" not in chart
    assert "venlafaxine 75 mg/day" in chart and "venlafaxine 150 mg/day" in chart
    table = trial_table_of(client, patient)
    assert "sertraline" not in table and "<td>75 → 150" in table


def test_a_new_dose_change_alone_shows_in_the_timeline(clinician, patient, trial, login):
    client = login(clinician)
    assert "200 mg/day" not in timeline_of(client, patient)

    client.post(
        reverse("treatments:trial-edit", args=[patient.pk, trial.pk]),
        edit_form(
            trial,
            **{
                "doses-0-date": (trial.start_date + timedelta(days=21)).isoformat(),
                "doses-0-dose_mg": "200",
            },
        ),
    )

    assert "sertraline 200 mg/day" in timeline_of(client, patient)


def test_a_removed_trial_leaves_the_timeline(clinician, patient, trial, login):
    start = trial.end_date + timedelta(days=1)
    TrialFactory(
        patient=patient,
        drug=drug("venlafaxine"),
        start_date=start,
        end_date=start + timedelta(days=30),
        dose_mg=150,
    )
    client = login(clinician)
    assert "sertraline" in timeline_of(client, patient)

    services.trial_delete(scope=scope_of(clinician, patient), trial=trial, reason="wrong patient")

    chart = timeline_of(client, patient)
    assert "sertraline" not in chart and "venlafaxine" in chart


def test_a_corrected_score_shows_in_the_timeline(clinician, patient, trial, login):
    score = ScaleScoreFactory(
        patient=patient, scale="madrs", total=31, date=trial.start_date - timedelta(days=1)
    )
    client = login(clinician)
    assert "MADRS 31 on" in timeline_of(client, patient)

    services.score_update(scope=scope_of(clinician, patient), score=score, changes={"total": 12})

    chart = timeline_of(client, patient)
    assert "MADRS 31 on" not in chart and "MADRS 12 on" in chart


def test_a_new_therapy_shows_in_the_timeline(clinician, patient, trial, login):
    client = login(clinician)
    assert "therapy" not in timeline_of(client, patient)

    TherapyFactory(patient=patient, kind="ect", start_date=trial.start_date)

    assert 'class="therapy"' in timeline_of(client, patient)


def test_a_new_episode_start_redraws_which_trials_count(clinician, patient, login):
    start = today() - timedelta(days=300)
    for name, offset in (("sertraline", 0), ("venlafaxine", 100)):
        TrialFactory(
            patient=patient,
            drug=drug(name),
            start_date=start + timedelta(days=offset),
            end_date=start + timedelta(days=offset + 70),
            dose_mg=150,
        )
    client = login(clinician)
    assert timeline_of(client, patient).count('class="trial counts"') == 2

    patient.episode_start = start + timedelta(days=90)
    patient.version += 1
    patient.save()

    assert timeline_of(client, patient).count('class="trial counts"') == 1


def test_an_unchanged_history_draws_the_timeline_from_the_cache(clinician, patient, trial, login):
    client = login(clinician)
    timeline_of(client, patient)
    key = timeline_cache_key(patient_history(patient))
    assert "sertraline 100 mg/day" in cache.get(key)

    cache.set(key, '<div class="timeline" data-from="cache"></svg>')

    assert 'data-from="cache"' in timeline_of(client, patient)


def test_a_corrected_score_changes_the_measured_outcome_in_the_trial_table(
    clinician, patient, trial, login
):
    ScaleScoreFactory(
        patient=patient, scale="madrs", total=30, date=trial.start_date - timedelta(days=1)
    )
    end_score = ScaleScoreFactory(
        patient=patient, scale="madrs", total=28, date=trial.end_date - timedelta(days=1)
    )
    client = login(clinician)
    assert "MADRS 30 → 28" in trial_table_of(client, patient)

    services.score_update(scope=scope_of(clinician, patient), score=end_score, changes={"total": 9})

    table = trial_table_of(client, patient)
    assert "MADRS 30 → 28" not in table and "MADRS 30 → 9" in table


def test_a_reader_who_may_not_edit_gets_no_edit_links_after_a_clinicians_visit(
    clinician, auditor, patient, trial, login, client
):
    edit_url = reverse("treatments:trial-edit", args=[patient.pk, trial.pk])
    assert edit_url in trial_table_of(login(clinician), patient)
    client.logout()

    table = trial_table_of(login(auditor), patient)

    assert "sertraline" in table and edit_url not in table
