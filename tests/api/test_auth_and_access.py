"""Tokens, 401/403/404 and tenancy across every endpoint of the API."""

import pytest
from knox.models import AuthToken

from accounts.models import Role
from audit.models import AuditEvent
from patients.models import Patient
from tests.factories import (
    PASSWORD,
    PatientFactory,
    TrialFactory,
    UserFactory,
    member,
)
from treatments.models import Therapy, Trial

from .helpers import (
    DRUGS_URL,
    PATIENTS_URL,
    TOKEN_URL,
    clinical_counts,
    options_url,
    patient_url,
    therapies_url,
    therapy_payload,
    therapy_url,
    trd_url,
    trial_payload,
    trial_url,
    trials_url,
)


def read_urls(patient, records):
    return [
        patient_url(patient.pk),
        trials_url(patient.pk),
        trial_url(patient.pk, records["trial"].pk),
        therapies_url(patient.pk),
        therapy_url(patient.pk, records["therapy"].pk),
        trd_url(patient.pk),
        options_url(patient.pk),
    ]


# --------------------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------------------


def test_it_issues_a_token_that_authenticates_later_requests(anonymous, clinician):
    response = anonymous.post(
        TOKEN_URL, {"username": "clinician", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 200
    token = response.json()["token"]
    stored = AuthToken.objects.get(user=clinician)
    assert token not in (stored.digest, stored.token_key)  # only a digest is kept
    assert stored.expiry is not None and response.json()["expiry"]

    anonymous.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert anonymous.get(PATIENTS_URL).status_code == 200


def test_each_request_gets_a_new_token_and_both_work(anonymous, clinician):
    credentials = {"username": "clinician", "password": PASSWORD}
    first = anonymous.post(TOKEN_URL, credentials, format="json").json()["token"]
    second = anonymous.post(TOKEN_URL, credentials, format="json").json()["token"]

    assert first != second
    assert AuthToken.objects.filter(user=clinician).count() == 2
    for token in (first, second):
        anonymous.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        assert anonymous.get(PATIENTS_URL).status_code == 200


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "clinician", "password": "wrong-password"},
        {"username": "nobody-by-this-name", "password": PASSWORD},
        {"username": "CLINICIAN", "password": PASSWORD},
    ],
    ids=["wrong_password", "unknown_user", "username_in_other_case"],
)
def test_it_refuses_a_token_for_bad_credentials(anonymous, clinician, credentials):
    response = anonymous.post(TOKEN_URL, credentials, format="json")

    assert response.status_code == 400
    assert "token" not in response.json()
    assert not AuthToken.objects.exists()


def test_it_names_the_missing_credential_fields(anonymous, db):
    response = anonymous.post(TOKEN_URL, {}, format="json")

    assert response.status_code == 400
    assert set(response.json()) >= {"username", "password"}


def test_it_refuses_a_token_to_a_deactivated_user(anonymous, clinician):
    clinician.is_active = False
    clinician.save()

    response = anonymous.post(
        TOKEN_URL, {"username": "clinician", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 400
    assert not AuthToken.objects.exists()


def test_it_answers_400_to_a_malformed_token_request(anonymous, clinician):
    response = anonymous.post(
        TOKEN_URL, data='{"username": "clinician", "password"', content_type="application/json"
    )

    assert response.status_code == 400
    assert not AuthToken.objects.exists()


# --------------------------------------------------------------------------------------
# 401: no or bad token
# --------------------------------------------------------------------------------------


def test_every_endpoint_answers_401_without_a_token(anonymous, patient, records):
    for url in [DRUGS_URL, PATIENTS_URL, *read_urls(patient, records)]:
        response = anonymous.get(url)
        assert response.status_code == 401, url
        assert response.headers["WWW-Authenticate"].startswith("Token"), url
    assert not AuditEvent.objects.exists()


def test_writes_without_a_token_answer_401_and_change_nothing(anonymous, patient, records):
    before = clinical_counts()

    attempts = [
        anonymous.post(
            PATIENTS_URL, {"identifier": "X", "date_of_birth": "1990-01-01"}, format="json"
        ),
        anonymous.patch(patient_url(patient.pk), {"identifier": "CHANGED"}, format="json"),
        anonymous.delete(patient_url(patient.pk)),
        anonymous.post(trials_url(patient.pk), trial_payload(), format="json"),
        anonymous.patch(
            trial_url(patient.pk, records["trial"].pk), {"dose_mg": 150}, format="json"
        ),
        anonymous.delete(trial_url(patient.pk, records["trial"].pk)),
        anonymous.post(therapies_url(patient.pk), therapy_payload(), format="json"),
        anonymous.delete(therapy_url(patient.pk, records["therapy"].pk)),
    ]

    assert [r.status_code for r in attempts] == [401] * len(attempts)
    assert clinical_counts() == before
    patient.refresh_from_db()
    assert patient.identifier == "MRN-1"
    assert patient.deleted_at is None
    assert Patient.objects.count() == 1
    assert Trial.objects.active().count() == 1
    assert Therapy.objects.active().count() == 1


@pytest.mark.parametrize(
    "header", ["Token not-a-real-token", "Bearer whatever", "Token ", "Token a b"]
)
def test_a_bad_token_answers_401(api, patient, header):
    client = api()
    client.credentials(HTTP_AUTHORIZATION=header)

    assert client.get(PATIENTS_URL).status_code == 401
    assert client.get(patient_url(patient.pk)).status_code == 401


def test_the_token_of_a_deactivated_user_stops_working(api, clinician, patient):
    client = api(clinician)
    assert client.get(patient_url(patient.pk)).status_code == 200

    clinician.is_active = False
    clinician.save()

    assert client.get(patient_url(patient.pk)).status_code == 401


def test_a_user_without_a_practice_is_forbidden_everything(api, patient):
    loner = UserFactory(username="loner")
    client = api(loner)

    assert client.get(DRUGS_URL).status_code == 403
    assert client.get(PATIENTS_URL).status_code == 403
    assert client.get(patient_url(patient.pk)).status_code == 403
    response = client.post(
        PATIENTS_URL, {"identifier": "LONER-1", "date_of_birth": "1990-01-01"}, format="json"
    )
    assert response.status_code == 403
    assert not Patient.objects.filter(identifier="LONER-1").exists()


# --------------------------------------------------------------------------------------
# 404: another practice
# --------------------------------------------------------------------------------------


def test_an_outsider_gets_404_for_every_read_of_another_practices_patient(
    as_outsider, patient, records
):
    for url in read_urls(patient, records):
        response = as_outsider.get(url)
        assert response.status_code == 404, url
        assert "MRN-1" not in response.content.decode()
    assert not AuditEvent.objects.filter(patient_id=patient.pk).exists()


def test_an_outsider_cannot_change_another_practices_records(as_outsider, patient, records):
    before = clinical_counts()
    trial, therapy = records["trial"], records["therapy"]

    attempts = [
        as_outsider.patch(patient_url(patient.pk), {"identifier": "STOLEN"}, format="json"),
        as_outsider.delete(patient_url(patient.pk)),
        as_outsider.post(trials_url(patient.pk), trial_payload(), format="json"),
        as_outsider.patch(trial_url(patient.pk, trial.pk), {"dose_mg": 150}, format="json"),
        as_outsider.delete(trial_url(patient.pk, trial.pk)),
        as_outsider.post(therapies_url(patient.pk), therapy_payload(), format="json"),
        as_outsider.patch(therapy_url(patient.pk, therapy.pk), {"detail": "x"}, format="json"),
        as_outsider.delete(therapy_url(patient.pk, therapy.pk)),
    ]

    assert [r.status_code for r in attempts] == [404] * len(attempts)
    assert clinical_counts() == before
    patient.refresh_from_db()
    trial.refresh_from_db()
    therapy.refresh_from_db()
    assert (patient.identifier, patient.deleted_at) == ("MRN-1", None)
    assert (trial.dose_mg, trial.deleted_at) == (100, None)
    assert (therapy.detail, therapy.deleted_at) == ("", None)


def test_an_outsider_cannot_reach_a_foreign_trial_through_their_own_patient(
    as_outsider, outsiders_patient, patient, records
):
    trial, therapy = records["trial"], records["therapy"]

    assert as_outsider.get(trial_url(outsiders_patient.pk, trial.pk)).status_code == 404
    assert as_outsider.get(therapy_url(outsiders_patient.pk, therapy.pk)).status_code == 404
    response = as_outsider.patch(
        trial_url(outsiders_patient.pk, trial.pk), {"dose_mg": 150}, format="json"
    )
    assert response.status_code == 404
    assert as_outsider.delete(therapy_url(outsiders_patient.pk, therapy.pk)).status_code == 404

    trial.refresh_from_db()
    therapy.refresh_from_db()
    assert trial.dose_mg == 100 and trial.deleted_at is None
    assert therapy.deleted_at is None


def test_a_foreign_patient_looks_exactly_like_a_missing_one(as_outsider, patient):
    foreign = as_outsider.get(patient_url(patient.pk))
    missing = as_outsider.get(patient_url(patient.pk + 1000))

    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()


def test_an_outsider_does_not_see_another_practices_patients_in_the_list(
    as_outsider, patient, outsiders_patient
):
    response = as_outsider.get(PATIENTS_URL)

    assert response.status_code == 200
    identifiers = [row["identifier"] for row in response.json()["results"]]
    assert identifiers == ["OTHER-1"]


@pytest.mark.parametrize("pk", ["0", "99999999999999999999", "9223372036854775808"])
def test_out_of_range_ids_answer_404_not_500(as_clinician, patient, pk):
    assert as_clinician.get(patient_url(pk)).status_code == 404
    assert as_clinician.get(trial_url(patient.pk, pk)).status_code == 404
    assert as_clinician.get(therapy_url(patient.pk, pk)).status_code == 404


# --------------------------------------------------------------------------------------
# 403: roles
# --------------------------------------------------------------------------------------


def test_a_colleague_in_the_same_practice_sees_the_patient(as_colleague, patient, records):
    for url in read_urls(patient, records):
        assert as_colleague.get(url).status_code == 200, url


def test_an_auditor_may_read_every_clinical_endpoint(as_auditor, patient, records):
    for url in [PATIENTS_URL, *read_urls(patient, records)]:
        assert as_auditor.get(url).status_code == 200, url


def test_an_auditor_may_not_write_anything(as_auditor, patient, records):
    before = clinical_counts()
    trial, therapy = records["trial"], records["therapy"]

    attempts = [
        as_auditor.post(
            PATIENTS_URL, {"identifier": "AUD-1", "date_of_birth": "1990-01-01"}, format="json"
        ),
        as_auditor.patch(patient_url(patient.pk), {"identifier": "AUD"}, format="json"),
        as_auditor.delete(patient_url(patient.pk)),
        as_auditor.post(trials_url(patient.pk), trial_payload(), format="json"),
        as_auditor.patch(trial_url(patient.pk, trial.pk), {"dose_mg": 150}, format="json"),
        as_auditor.delete(trial_url(patient.pk, trial.pk)),
        as_auditor.post(therapies_url(patient.pk), therapy_payload(), format="json"),
        as_auditor.patch(therapy_url(patient.pk, therapy.pk), {"detail": "x"}, format="json"),
        as_auditor.delete(therapy_url(patient.pk, therapy.pk)),
    ]

    assert [r.status_code for r in attempts] == [403] * len(attempts)
    assert clinical_counts() == before
    assert Patient.objects.count() == 1
    patient.refresh_from_db()
    trial.refresh_from_db()
    assert (patient.identifier, patient.deleted_at) == ("MRN-1", None)
    assert (trial.dose_mg, trial.deleted_at) == (100, None)


def test_an_auditor_learns_nothing_about_another_practice(as_auditor, outsiders_patient):
    assert as_auditor.get(patient_url(outsiders_patient.pk)).status_code == 404
    assert as_auditor.get(trd_url(outsiders_patient.pk)).status_code == 404


def test_a_practice_admin_has_no_clinical_access(as_admin, patient, records):
    before = clinical_counts()

    for url in [PATIENTS_URL, *read_urls(patient, records)]:
        assert as_admin.get(url).status_code == 403, url
    response = as_admin.post(
        PATIENTS_URL, {"identifier": "ADM-1", "date_of_birth": "1990-01-01"}, format="json"
    )
    assert response.status_code == 403
    assert as_admin.post(trials_url(patient.pk), trial_payload(), format="json").status_code == 403
    assert as_admin.delete(patient_url(patient.pk)).status_code == 403

    assert clinical_counts() == before
    assert Patient.objects.count() == 1


def test_a_practice_admin_gets_403_not_404_for_another_practices_patient(
    as_admin, outsiders_patient
):
    """The role is checked first, so an admin cannot probe which ids exist."""
    assert as_admin.get(patient_url(outsiders_patient.pk)).status_code == 403
    assert as_admin.get(patient_url(outsiders_patient.pk + 1000)).status_code == 403


def test_a_clinician_who_is_also_admin_keeps_clinical_access(api, practice, patient):
    both = member(practice, Role.CLINICIAN, Role.PRACTICE_ADMIN, username="both")

    response = api(both).get(patient_url(patient.pk))

    assert response.status_code == 200
    assert response.json()["identifier"] == "MRN-1"


# --------------------------------------------------------------------------------------
# Malformed requests
# --------------------------------------------------------------------------------------


def test_a_malformed_json_body_answers_400_and_saves_nothing(as_clinician, patient, records):
    before = clinical_counts()
    broken = '{"drug": "sertraline", "start_date": '

    for url, method in [
        (PATIENTS_URL, "post"),
        (patient_url(patient.pk), "patch"),
        (trials_url(patient.pk), "post"),
        (trial_url(patient.pk, records["trial"].pk), "patch"),
        (therapies_url(patient.pk), "post"),
        (therapy_url(patient.pk, records["therapy"].pk), "patch"),
    ]:
        response = getattr(as_clinician, method)(url, data=broken, content_type="application/json")
        assert response.status_code == 400, url
        assert isinstance(response.json(), dict), url

    assert clinical_counts() == before


@pytest.mark.parametrize("body", ["[]", '"text"', "42", "null"])
def test_a_json_body_that_is_not_an_object_answers_400(as_clinician, patient, body):
    before = clinical_counts()

    for url in [PATIENTS_URL, trials_url(patient.pk), therapies_url(patient.pk)]:
        response = as_clinician.post(url, data=body, content_type="application/json")
        assert response.status_code == 400, (url, response.content)

    assert clinical_counts() == before
    assert Patient.objects.count() == 1


def test_unsupported_methods_answer_405_and_change_nothing(as_clinician, patient, records):
    trial = records["trial"]

    assert as_clinician.put(patient_url(patient.pk), {}, format="json").status_code == 405
    assert as_clinician.put(trial_url(patient.pk, trial.pk), {}, format="json").status_code == 405
    assert as_clinician.post(trd_url(patient.pk), {}, format="json").status_code == 405
    assert as_clinician.delete(trials_url(patient.pk)).status_code == 405
    assert as_clinician.delete(PATIENTS_URL).status_code == 405

    assert Trial.objects.active().count() == 1
    assert Patient.objects.active().count() == 1


def test_ids_of_other_patients_in_the_same_practice_do_not_mix(as_clinician, practice, patient):
    second = PatientFactory(practice=practice, identifier="MRN-2")
    trial = TrialFactory(patient=second)

    assert as_clinician.get(trial_url(patient.pk, trial.pk)).status_code == 404
    response = as_clinician.delete(trial_url(patient.pk, trial.pk))
    assert response.status_code == 404
    trial.refresh_from_db()
    assert trial.deleted_at is None
