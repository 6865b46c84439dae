"""The idle timeout loses no work: a warning with "Stay signed in" before it, and a form posted
after it comes back filled in once the same user has signed in again."""

import json
import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.http import QueryDict
from django.test import Client
from django.urls import resolve, reverse

from accounts import form_recovery
from accounts.middleware import IdleTimeoutMiddleware
from audit.models import AuditEvent
from core.dates import today
from tests.factories import ScaleScoreFactory, TherapyFactory, TrialFactory, drug
from treatments.models import Trial

KEEP_ALIVE = "/accounts/keep-alive/"
START = today() - timedelta(days=100)


def trial_data(**overrides):
    data = {
        "drug": str(drug("venlafaxine").pk),
        "start_date": START.isoformat(),
        "end_date": (START + timedelta(days=84)).isoformat(),
        "dose_mg": "75",
        "adherence": "good",
        "outcome": "partial_response",
        "reason_stopped": "",
        "notes": "Raised after two weeks.",
        "doses-TOTAL_FORMS": "2",
        "doses-INITIAL_FORMS": "0",
        "doses-MIN_NUM_FORMS": "0",
        "doses-MAX_NUM_FORMS": "60",
        "doses-0-date": (START + timedelta(days=14)).isoformat(),
        "doses-0-dose_mg": "150",
        "doses-1-date": "",
        "doses-1-dose_mg": "",
    }
    data.update(overrides)
    return data


def sign_in(client, username, password, next_url=""):
    return client.post(
        reverse("login"), {"username": username, "password": password, "next": next_url}
    )


def idle_for(client, seconds):
    session = client.session
    session[IdleTimeoutMiddleware.SESSION_KEY] -= seconds
    session.save()


@pytest.fixture
def five_minutes(practice):
    practice.session_idle_minutes = 5
    practice.save()
    return practice


@pytest.fixture
def trial_url(patient):
    return reverse("treatments:trial-add", args=[patient.pk])


@pytest.fixture
def expired_post(client, clinician, password, five_minutes, trial_url):
    """The clinician opens the trial form, stays on it past the timeout, then presses Save."""
    sign_in(client, "clinician", password)
    client.get(trial_url)
    idle_for(client, 5 * 60 + 30)
    return client.post(trial_url, {**trial_data(), "csrfmiddlewaretoken": "token-value"})


def kept_entry(client):
    token = client.session.get(form_recovery.PENDING_KEY)
    raw = cache.get(form_recovery.CACHE_PREFIX + token) if token else None
    return json.loads(raw) if raw else None


# The keep-alive endpoint.


@pytest.mark.django_db
def test_keep_alive_needs_sign_in(client):
    response = client.post(KEEP_ALIVE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_keep_alive_refreshes_last_activity_and_answers_the_seconds_left(
    client, clinician, password, five_minutes
):
    sign_in(client, "clinician", password)
    client.get("/")
    idle_for(client, 4 * 60)
    before = client.session[IdleTimeoutMiddleware.SESSION_KEY]
    response = client.post(KEEP_ALIVE)
    assert response.status_code == 204
    assert response["X-Session-Seconds-Left"] == "300"
    assert client.session[IdleTimeoutMiddleware.SESSION_KEY] >= before + 4 * 60


@pytest.mark.django_db
def test_keep_alive_restarts_the_idle_clock_to_the_second_even_within_its_minute(
    client, clinician, password, five_minutes
):
    sign_in(client, "clinician", password)
    client.get("/")
    idle_for(client, 30)
    before = client.session[IdleTimeoutMiddleware.SESSION_KEY]
    assert client.post(KEEP_ALIVE)["X-Session-Seconds-Left"] == "300"
    assert client.session[IdleTimeoutMiddleware.SESSION_KEY] >= before + 30


# The idle clock is stored at most once a minute (each store saves the session).


@pytest.mark.django_db
def test_a_request_within_a_minute_of_the_stored_time_leaves_it(
    client, clinician, password, five_minutes
):
    sign_in(client, "clinician", password)
    client.get("/")
    idle_for(client, 59)
    before = client.session[IdleTimeoutMiddleware.SESSION_KEY]
    assert client.get("/patients/").status_code == 200
    assert client.session[IdleTimeoutMiddleware.SESSION_KEY] == before


@pytest.mark.django_db
def test_a_request_a_minute_or_more_after_the_stored_time_restarts_the_clock(
    client, clinician, password, five_minutes
):
    sign_in(client, "clinician", password)
    client.get("/")
    idle_for(client, 60)
    before = client.session[IdleTimeoutMiddleware.SESSION_KEY]
    assert client.get("/patients/").status_code == 200
    assert client.session[IdleTimeoutMiddleware.SESSION_KEY] >= before + 60


@pytest.mark.django_db
def test_a_request_that_left_the_stored_time_does_not_extend_the_session(
    client, clinician, password, five_minutes
):
    """The clock's granularity: the session may end up to 59 s before the idle minutes after
    the last request, never later."""
    sign_in(client, "clinician", password)
    client.get("/")
    idle_for(client, 30)
    assert client.get("/patients/").status_code == 200  # 30 s: the time stays as stored
    idle_for(client, 5 * 60 - 29)  # 271 s after that request, 301 s after the stored time
    assert client.get("/patients/").status_code == 302


@pytest.mark.django_db
def test_keep_alive_is_a_post_only(client, clinician, password):
    sign_in(client, "clinician", password)
    assert client.get(KEEP_ALIVE).status_code == 405


@pytest.mark.django_db
def test_keep_alive_cannot_revive_an_ended_session(client, clinician, password, five_minutes):
    sign_in(client, "clinician", password)
    client.get("/")
    idle_for(client, 5 * 60 + 1)
    response = client.post(KEEP_ALIVE)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert client.get("/patients/").status_code == 302


@pytest.mark.django_db
def test_keep_alive_works_for_an_outsider_in_their_own_practice(client, outsider, password):
    sign_in(client, "outsider", password)
    response = client.post(KEEP_ALIVE)
    assert response.status_code == 204
    assert response["X-Session-Seconds-Left"] == "1800"


# The warning's data on the page.


@pytest.mark.django_db
def test_signed_in_pages_carry_the_timeout_for_the_warning_script(
    client, clinician, password, five_minutes
):
    sign_in(client, "clinician", password)
    page = client.get("/").content.decode()
    assert 'data-idle-minutes="5"' in page
    assert 'data-warn-seconds="120"' in page
    assert f'data-keep-alive-url="{KEEP_ALIVE}"' in page
    assert "js/session_timeout.js" in page


def idle_elapsed(page) -> int:
    return int(re.search(r'data-idle-elapsed="(\d+)"', page.content.decode()).group(1))


@pytest.mark.django_db
def test_the_warning_counts_from_the_servers_stored_clock_not_the_page_load(
    client, clinician, password, five_minutes
):
    sign_in(client, "clinician", password)
    client.get("/")
    idle_for(client, 40)
    assert 40 <= idle_elapsed(client.get("/")) <= 42  # not stored again within its minute
    idle_for(client, 30)
    assert idle_elapsed(client.get("/")) == 0  # 70 s: stored with this request


@pytest.mark.django_db
def test_the_sign_in_page_has_no_timeout_warning(client):
    page = client.get(reverse("login")).content.decode()
    assert "session_timeout.js" not in page and "data-idle-minutes" not in page


# A form posted after the session ended.


@pytest.mark.django_db
def test_an_expired_trial_post_is_not_saved_and_asks_for_sign_in(
    client, expired_post, trial_url, patient
):
    assert expired_post.status_code == 302
    assert expired_post["Location"] == f"{reverse('login')}?next={trial_url}"
    assert not Trial.objects.filter(patient=patient).exists()
    login_page = client.get(expired_post["Location"]).content.decode()
    assert "Your session ended; sign in again and your form will be shown filled in." in (
        login_page
    )


@pytest.mark.django_db
def test_the_same_user_signing_in_again_sees_the_trial_form_filled_in(
    client, expired_post, trial_url, patient, password
):
    response = sign_in(client, "clinician", password, next_url=trial_url)
    assert response["Location"] == trial_url
    page = client.get(trial_url)
    html = page.content.decode()
    assert "Restored your unsaved input: check it and save." in html
    form, formset = page.context["form"], page.context["formset"]
    assert form["drug"].value() == str(drug("venlafaxine").pk)
    assert form["start_date"].value() == START.isoformat()
    assert form["dose_mg"].value() == "75"
    assert formset.forms[0]["dose_mg"].value() == "150"
    assert f'value="{START.isoformat()}"' in html
    assert 'value="150"' in html and "Raised after two weeks." in html
    # Showing it saved nothing; the clinician's Save goes through the normal service.
    assert not Trial.objects.filter(patient=patient).exists()
    assert not AuditEvent.objects.filter(object_type="trial").exists()
    assert client.post(trial_url, trial_data()).status_code == 302
    trial = Trial.objects.get(patient=patient)
    assert [c.dose_mg for c in trial.dose_changes.all()] == [150]
    assert AuditEvent.objects.filter(action="create", object_type="trial").count() == 1


@pytest.mark.django_db
def test_the_kept_input_is_shown_once(client, expired_post, trial_url, password):
    sign_in(client, "clinician", password, next_url=trial_url)
    assert client.get(trial_url).context["form"].is_bound
    again = client.get(trial_url)
    assert not again.context["form"].is_bound
    assert "Restored your unsaved input" not in again.content.decode()


@pytest.mark.django_db
def test_the_kept_input_waits_for_its_own_page(client, expired_post, trial_url, password):
    sign_in(client, "clinician", password)
    client.get("/")
    assert client.get(trial_url).context["form"]["dose_mg"].value() == "75"


@pytest.mark.django_db
@pytest.mark.parametrize("other", ["colleague", "outsider"])
def test_another_user_signing_in_on_that_browser_does_not_get_the_input(
    request, client, expired_post, trial_url, patient, password, other
):
    request.getfixturevalue(other)
    token = client.session[form_recovery.PENDING_KEY]
    sign_in(client, other, password, next_url=trial_url)
    assert form_recovery.PENDING_KEY not in client.session
    assert cache.get(form_recovery.CACHE_PREFIX + token) is None
    page = client.get(trial_url)
    if other == "colleague":
        assert not page.context["form"].is_bound
    else:
        assert page.status_code == 404  # another practice's patient
    assert "Raised after two weeks." not in page.content.decode()


@pytest.mark.django_db
def test_passwords_and_csrf_tokens_are_not_kept(
    client, clinician, password, five_minutes, trial_url
):
    sign_in(client, "clinician", password)
    client.get(trial_url)
    idle_for(client, 6 * 60)
    client.post(
        trial_url,
        {
            **trial_data(),
            "csrfmiddlewaretoken": "token-value",
            "new_password1": "secret-1",
            "Password": "secret-2",
        },
    )
    names = {name for name, _ in kept_entry(client)["fields"]}
    assert "dose_mg" in names and "doses-0-dose_mg" in names
    assert not names & {"csrfmiddlewaretoken", "new_password1", "Password"}


@pytest.mark.django_db
def test_the_kept_input_expires_after_thirty_minutes(client, expired_post, trial_url, password):
    token = client.session[form_recovery.PENDING_KEY]
    entry = kept_entry(client)
    entry["saved_at"] -= 31 * 60
    cache.set(form_recovery.CACHE_PREFIX + token, json.dumps(entry))
    sign_in(client, "clinician", password, next_url=trial_url)
    assert not client.get(trial_url).context["form"].is_bound


@pytest.mark.django_db
def test_input_over_64_kb_is_not_kept(client, clinician, password, five_minutes, trial_url):
    sign_in(client, "clinician", password)
    client.get(trial_url)
    idle_for(client, 6 * 60)
    response = client.post(trial_url, trial_data(notes="x" * 70_000))
    assert response["Location"].startswith(reverse("login"))
    assert kept_entry(client) is None
    assert (
        "signed out after a period of inactivity"
        in client.get(response["Location"]).content.decode()
    )


@pytest.mark.django_db
def test_a_post_without_a_valid_csrf_token_is_not_kept(
    clinician, password, five_minutes, trial_url
):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(clinician)
    browser.get(trial_url)
    idle_for(browser, 6 * 60)
    response = browser.post(trial_url, trial_data())
    assert response["Location"].startswith(reverse("login"))
    assert kept_entry(browser) is None


@pytest.mark.django_db
def test_a_post_to_a_view_that_restores_nothing_is_not_kept(
    client, clinician, password, five_minutes, patient
):
    trial = TrialFactory(patient=patient)
    sign_in(client, "clinician", password)
    client.get("/")
    idle_for(client, 6 * 60)
    url = reverse("treatments:trial-delete", args=[patient.pk, trial.pk])
    response = client.post(url, {"reason": "entered in error"})
    assert response["Location"].startswith(reverse("login"))
    assert kept_entry(client) is None
    assert Trial.objects.filter(pk=trial.pk, deleted_at__isnull=True).exists()


@pytest.mark.django_db
def test_a_form_posted_from_another_tab_after_the_idle_sign_out_is_kept(
    client, clinician, password, five_minutes, trial_url, patient
):
    sign_in(client, "clinician", password)
    client.get(trial_url)
    idle_for(client, 6 * 60)
    client.get("/patients/")  # another tab: signed out, nothing to keep
    response = client.post(trial_url, trial_data())
    assert response["Location"] == f"{reverse('login')}?next={trial_url}"
    assert not Trial.objects.filter(patient=patient).exists()
    sign_in(client, "clinician", password, next_url=trial_url)
    assert client.get(trial_url).context["form"]["dose_mg"].value() == "75"


@pytest.mark.django_db
def test_an_anonymous_post_with_no_signed_out_user_keeps_nothing(client, trial_url):
    response = client.post(trial_url, trial_data())
    assert response["Location"].startswith(reverse("login"))
    assert form_recovery.PENDING_KEY not in client.session


@pytest.mark.django_db
def test_the_patient_form_comes_back_filled_in_too(
    client, clinician, password, five_minutes, patient
):
    url = reverse("patients:patient-edit", args=[patient.pk])
    sign_in(client, "clinician", password)
    page = client.get(url)
    data = {
        name: field.value() or "" for name, field in ((f.name, f) for f in page.context["form"])
    }
    data["notes"] = "Kept across the sign-in."
    idle_for(client, 6 * 60)
    client.post(url, data)
    sign_in(client, "clinician", password, next_url=url)
    assert "Kept across the sign-in." in client.get(url).content.decode()
    patient.refresh_from_db()
    assert patient.notes != "Kept across the sign-in."


@pytest.mark.django_db
def test_the_trial_score_therapy_and_patient_forms_restore_input(patient):
    trial, therapy = TrialFactory(patient=patient), TherapyFactory(patient=patient)
    score = ScaleScoreFactory(patient=patient)
    restorable = [
        reverse("treatments:trial-add", args=[patient.pk]),
        reverse("treatments:trial-edit", args=[patient.pk, trial.pk]),
        reverse("treatments:score-add", args=[patient.pk]),
        reverse("treatments:score-edit", args=[patient.pk, score.pk]),
        reverse("treatments:therapy-add", args=[patient.pk]),
        reverse("treatments:therapy-edit", args=[patient.pk, therapy.pk]),
        reverse("patients:patient-add"),
        reverse("patients:patient-edit", args=[patient.pk]),
    ]
    assert all(form_recovery.is_restorable(resolve(url).func) for url in restorable)
    assert not form_recovery.is_restorable(
        resolve(reverse("treatments:trial-delete", args=[patient.pk, trial.pk])).func
    )


def test_only_fields_other_than_csrf_and_passwords_are_kept():
    post = QueryDict(mutable=True)
    post.update({"csrfmiddlewaretoken": "t", "old_password": "p", "drug": "3"})
    post.setlist("doses-0-date", ["2026-01-02"])
    post.appendlist("tags", "a")
    post.appendlist("tags", "b")
    assert form_recovery.kept_fields(post) == [
        ["drug", "3"],
        ["doses-0-date", "2026-01-02"],
        ["tags", "a"],
        ["tags", "b"],
    ]
