"""Recording scores through the web form, the scores table, and the measured outcome of
each trial with "Use measured outcome"."""

from datetime import timedelta

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from core.dates import today
from tests.factories import DoseChangeFactory, ScaleScoreFactory, TrialFactory
from treatments.models import ScaleScore

pytestmark = pytest.mark.django_db

PHQ9_ITEMS = [2, 2, 1, 2, 1, 1, 1, 1, 1]


def add_url(patient):
    return reverse("treatments:score-add", args=[patient.pk])


def use_url(patient, trial):
    return reverse("treatments:trial-use-measured", args=[patient.pk, trial.pk])


def phq9_data(items=PHQ9_ITEMS, **overrides):
    data = {"scale": "phq9", "date": today().isoformat(), "total": ""}
    data.update({f"item_{n}": str(value) for n, value in enumerate(items, start=1)})
    data.update(overrides)
    return data


def test_a_phq9_is_saved_with_its_items_and_computed_total_and_audited(clinician, patient, login):
    response = login(clinician).post(add_url(patient), phq9_data())

    assert response.status_code == 302
    assert response["Location"] == f"{patient.get_absolute_url()}#scores"
    score = ScaleScore.objects.get(patient=patient)
    assert (score.scale, score.total, score.items, score.date) == ("phq9", 12, PHQ9_ITEMS, today())
    event = AuditEvent.objects.get(action="create", object_type="scalescore")
    assert (event.actor, event.patient_id) == ("clinician", patient.pk)
    assert event.details["changes"]["total"] == [None, 12]


def test_a_madrs_is_saved_by_its_total_and_phq9_item_answers_are_ignored(clinician, patient, login):
    data = phq9_data(scale="madrs", total="31")
    response = login(clinician).post(add_url(patient), data)

    assert response.status_code == 302
    score = ScaleScore.objects.get(patient=patient)
    assert (score.scale, score.total, score.items) == ("madrs", 31, [])


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (phq9_data(item_9=""), "item_9", "Answer every PHQ-9 item."),
        (phq9_data(item_3="4"), "item_3", "Select a valid choice"),
        (phq9_data(total="13"), "total", "is not the sum of the items (12)"),
        (phq9_data(scale="hamd17", total=""), "total", "Enter the HAM-D-17 total."),
        (phq9_data(scale="hamd17", total="53"), "total", "The HAM-D-17 total is 0–52."),
        (phq9_data(scale="madrs", total="61"), "total", "The MADRS total is 0–60."),
        (phq9_data(scale="madrs", total="-1"), "total", "greater than or equal to 0"),
        (phq9_data(scale=""), "scale", "This field is required."),
        (phq9_data(scale="gad7", total="3"), "scale", "Select a valid choice"),
        (phq9_data(date=(today() + timedelta(days=1)).isoformat()), "date", "future"),
        (phq9_data(date="1970-01-01"), "date", "date of birth"),
    ],
)
def test_invalid_scores_are_refused_with_the_reason_and_nothing_is_saved(
    clinician, patient, login, data, field, message
):
    response = login(clinician).post(add_url(patient), data)

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert any(message in error for error in errors[field]), errors
    assert not ScaleScore.objects.exists()


def test_the_form_shows_the_nine_phq9_items_and_loads_its_script(clinician, patient, login):
    html = login(clinician).get(add_url(patient)).content.decode()

    assert html.count("data-phq9-row") == 9
    assert html.count('type="radio"') == 36  # 0–3 for each of the nine items
    assert "9. Thoughts of being better off dead or of self-harm" in html
    assert "/static/js/score_form.js" in html
    assert "<script>" not in html and "style=" not in html  # CSP: no inline script or style


def test_an_auditor_may_not_record_scores_and_an_outsider_gets_404(
    auditor, outsider, patient, client
):
    client.force_login(auditor)
    assert client.get(add_url(patient)).status_code == 403
    assert client.post(add_url(patient), phq9_data()).status_code == 403
    client.force_login(outsider)
    assert client.post(add_url(patient), phq9_data()).status_code == 404
    assert not ScaleScore.objects.exists()


def test_the_patient_page_lists_scores_and_draws_them_on_the_timeline(clinician, patient, login):
    ScaleScoreFactory(patient=patient, scale="madrs", total=36, date=today() - timedelta(days=40))
    ScaleScoreFactory(patient=patient, scale="madrs", total=18, date=today() - timedelta(days=10))
    html = login(clinician).get(patient.get_absolute_url()).content.decode()

    table = html.split('id="score-table"')[1].split("</table>")[0]
    assert table.count("<tr>") == 3  # header + 2
    assert "severe" in table and "mild" in table
    assert 'class="tl-lane" data-scale="madrs"' in html
    assert html.count('class="score-point"') == 2
    assert '<polyline class="score-line"' in html
    assert html.count('class="band band-') == 4


# --------------------------------------------------------------------------------------
# Measured outcome on the trial table
# --------------------------------------------------------------------------------------


@pytest.fixture
def trial(patient):
    """Sertraline 100 mg/day for 60 days, ended 60 days ago, recorded as no response."""
    start = today() - timedelta(days=120)
    return TrialFactory(patient=patient, start_date=start, end_date=start + timedelta(days=60))


def scores_showing_response(patient, trial):
    ScaleScoreFactory(patient=patient, scale="hamd17", total=24, date=trial.start_date)
    ScaleScoreFactory(
        patient=patient, scale="hamd17", total=10, date=trial.end_date - timedelta(days=3)
    )


def test_the_trial_table_shows_a_disagreeing_measured_outcome(clinician, patient, trial, login):
    scores_showing_response(patient, trial)
    html = login(clinician).get(patient.get_absolute_url()).content.decode()
    cell = html.split('class="measured-outcome"')[1].split("</td>")[0]

    assert "Response" in cell and "disagrees" in cell
    assert "HAM-D-17 24 → 10 (58.3% lower)" in cell
    assert "HAM-D-17 24 (" in cell  # the dates, in the title
    assert "Use measured outcome" in cell


def test_without_scores_the_measured_outcome_is_a_dash(clinician, patient, trial, login):
    html = login(clinician).get(patient.get_absolute_url()).content.decode()
    cell = html.split('class="measured-outcome"')[1].split("</td>")[0]
    assert "—" in cell and "Use measured outcome" not in cell


@pytest.mark.parametrize(
    ("end_day", "too_early"), [(27, True), (28, False)], ids=["day_27_too_early", "day_28_measured"]
)
def test_an_end_score_under_28_days_in_says_too_early_not_a_dash(
    clinician, patient, trial, login, end_day, too_early
):
    ScaleScoreFactory(patient=patient, scale="hamd17", total=20, date=trial.start_date)
    ScaleScoreFactory(
        patient=patient, scale="hamd17", total=21, date=trial.start_date + timedelta(days=end_day)
    )
    html = login(clinician).get(patient.get_absolute_url()).content.decode()
    cell = html.split('class="measured-outcome"')[1].split("</td>")[0]

    assert (f"too early (day {end_day} of 28)" in cell) is too_early
    assert ("No response" in cell) is not too_early
    if too_early:
        assert "—" not in cell and "Use measured outcome" not in cell


def test_an_auditor_sees_the_measured_outcome_without_the_button(auditor, patient, trial, login):
    scores_showing_response(patient, trial)
    html = login(auditor).get(patient.get_absolute_url()).content.decode()
    assert "disagrees" in html and "Use measured outcome" not in html


def test_using_the_measured_outcome_updates_the_trial_through_the_audited_service(
    clinician, patient, trial, login
):
    DoseChangeFactory(trial=trial)
    scores_showing_response(patient, trial)
    response = login(clinician).post(use_url(patient, trial), {"version": trial.version})

    assert response.status_code == 302
    trial.refresh_from_db()
    assert trial.outcome == "response"
    assert [(c.date, c.dose_mg) for c in trial.dose_changes.all()] == [
        (trial.start_date + timedelta(days=14), 150)
    ]  # the dose changes are kept
    event = AuditEvent.objects.get(action="update", object_type="trial")
    assert event.details["changes"] == {"outcome": ["no_response", "response"]}
    html = login(clinician).get(patient.get_absolute_url()).content.decode()
    assert "disagrees" not in html


def test_using_the_measured_outcome_asks_first_showing_recorded_and_measured(
    clinician, patient, trial, login
):
    scores_showing_response(patient, trial)

    page = login(clinician).get(use_url(patient, trial))

    assert page.status_code == 200
    html = page.content.decode()
    assert "No response" in html and "<strong>Response</strong>" in html
    assert "HAM-D-17 24 (" in html and "→ 10 (" in html
    trial.refresh_from_db()
    assert trial.outcome == "no_response"  # nothing changes until confirmed


def test_a_stale_confirmation_changes_nothing(clinician, patient, trial, login):
    scores_showing_response(patient, trial)

    login(clinician).post(use_url(patient, trial), {"version": trial.version + 1})

    trial.refresh_from_db()
    assert trial.outcome == "no_response"


def test_an_ongoing_trial_is_not_offered_the_measured_outcome(clinician, patient, login):
    start = today() - timedelta(days=60)
    ongoing = TrialFactory(patient=patient, start_date=start, end_date=None, outcome="ongoing")
    ScaleScoreFactory(patient=patient, scale="hamd17", total=24, date=start)
    ScaleScoreFactory(patient=patient, scale="hamd17", total=10, date=today())
    client = login(clinician)

    html = client.get(patient.get_absolute_url()).content.decode()
    response = client.post(use_url(patient, ongoing), {"version": ongoing.version})

    assert "Use measured outcome" not in html
    assert response.status_code == 302
    ongoing.refresh_from_db()
    assert ongoing.outcome == "ongoing"


def test_using_the_measured_outcome_needs_scores_and_the_right(
    clinician, auditor, outsider, patient, trial, client
):
    client.force_login(clinician)
    client.post(use_url(patient, trial), {"version": trial.version})  # no scores: nothing to use
    trial.refresh_from_db()
    assert trial.outcome == "no_response"
    scores_showing_response(patient, trial)
    client.force_login(auditor)
    assert client.post(use_url(patient, trial), {"version": trial.version}).status_code == 403
    client.force_login(outsider)
    assert client.post(use_url(patient, trial), {"version": trial.version}).status_code == 404
    trial.refresh_from_db()
    assert trial.outcome == "no_response"
