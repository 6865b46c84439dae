"""GET|POST /api/v1/patients/{id}/therapies/ and GET|PATCH|DELETE .../therapies/{id}/."""

from datetime import date

import pytest

from audit.models import AuditEvent
from tests.factories import PatientFactory, TherapyFactory
from treatments.models import Therapy

from .helpers import (
    REMOVAL,
    assert_field_errors,
    clinical_counts,
    day,
    days_ago,
    days_ahead,
    event_mark,
    events,
    post_therapy,
    therapies_url,
    therapy_payload,
    therapy_url,
)

FIELDS = {"id", "kind", "detail", "start_date", "end_date", "outcome"}
KINDS = [
    "ect",
    "tms",
    "vns",
    "dbs",
    "mst",
    "ketamine",
    "esketamine",
    "psychotherapy",
    "psychedelic_trial",
    "other",
]


@pytest.fixture
def therapy(patient):
    """Ongoing ECT started 30 days ago."""
    return TherapyFactory(patient=patient)


def row(therapy_id) -> dict:
    return Therapy.objects.filter(pk=therapy_id).values().get()


# --------------------------------------------------------------------------------------
# Create
# --------------------------------------------------------------------------------------


def test_it_records_a_therapy_and_audits_it(as_clinician, patient, practice):
    response = as_clinician.post(therapies_url(patient.pk), therapy_payload(), format="json")

    assert response.status_code == 201
    body = response.json()
    assert set(body) >= FIELDS
    assert (body["kind"], body["detail"]) == ("ect", "bilateral, 12 sessions")
    assert (body["start_date"], body["end_date"]) == (day(0), day(30))
    assert body["outcome"] == "partial_response"
    saved = Therapy.objects.get(pk=body["id"])
    assert saved.patient == patient
    assert (saved.kind, saved.start_date, saved.end_date) == (
        "ect",
        date(2023, 1, 2),
        date(2023, 2, 1),
    )
    (event,) = events(action="create", patient_id=patient.pk)
    assert (event.actor, event.practice_id, event.object_id) == (
        "clinician",
        practice.pk,
        str(saved.pk),
    )
    assert event.details["changes"]["kind"] == [None, "ect"]
    assert event.details["changes"]["start_date"] == [None, day(0)]


@pytest.mark.parametrize("kind", KINDS)
def test_it_accepts_every_known_kind(as_clinician, patient, kind):
    body = post_therapy(as_clinician, patient.pk, kind=kind)

    assert body["kind"] == kind
    assert Therapy.objects.get(pk=body["id"]).kind == kind


def test_an_ongoing_therapy_without_details_takes_the_defaults(as_clinician, patient):
    response = as_clinician.post(
        therapies_url(patient.pk),
        {"kind": "psychotherapy", "start_date": days_ago(3)},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["detail"], body["end_date"], body["outcome"]) == ("", None, "unknown")


INVALID_THERAPIES = [
    ("unknown_kind", {"kind": "hypnosis"}, "kind"),
    ("kind_in_other_case", {"kind": "ECT"}, "kind"),
    ("kind_label_instead_of_value", {"kind": "Ketamine"}, "kind"),
    ("kind_null", {"kind": None}, "kind"),
    ("kind_blank", {"kind": ""}, "kind"),
    ("end_before_start", {"end_date": day(-1)}, "end_date"),
    ("start_in_the_future", {"start_date": days_ahead(1), "end_date": None}, "start_date"),
    ("end_in_the_future", {"start_date": days_ago(2), "end_date": days_ahead(1)}, "end_date"),
    ("start_before_birth", {"start_date": "1970-01-01", "end_date": "1970-02-01"}, "start_date"),
    ("impossible_start", {"start_date": "2023-02-30"}, "start_date"),
    ("impossible_end", {"end_date": "2023-04-31"}, "end_date"),
    ("unknown_outcome", {"outcome": "great"}, "outcome"),
    ("detail_too_long", {"detail": "d" * 101}, "detail"),
]


@pytest.mark.parametrize(
    "overrides, field",
    [case[1:] for case in INVALID_THERAPIES],
    ids=[case[0] for case in INVALID_THERAPIES],
)
def test_it_rejects_an_invalid_therapy_naming_the_field_and_saves_nothing(
    as_clinician, patient, overrides, field
):
    before = clinical_counts()

    response = as_clinician.post(
        therapies_url(patient.pk), therapy_payload(**overrides), format="json"
    )

    assert_field_errors(response, field)
    assert clinical_counts() == before


@pytest.mark.parametrize("field", ["kind", "start_date"])
def test_it_requires_a_kind_and_a_start_date(as_clinician, patient, field):
    payload = therapy_payload()
    del payload[field]

    response = as_clinician.post(therapies_url(patient.pk), payload, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Therapy.objects.exists()


# --------------------------------------------------------------------------------------
# Read
# --------------------------------------------------------------------------------------


def test_it_lists_the_patients_active_therapies_in_start_order(as_clinician, practice, patient):
    later = post_therapy(as_clinician, patient.pk, kind="tms", start_date=day(50), end_date=day(80))
    earlier = post_therapy(as_clinician, patient.pk)
    gone = post_therapy(
        as_clinician, patient.pk, kind="ketamine", start_date=day(90), end_date=day(91)
    )
    as_clinician.delete(therapy_url(patient.pk, gone["id"]), REMOVAL, format="json")
    TherapyFactory(patient=PatientFactory(practice=practice, identifier="MRN-2"))
    mark = event_mark()

    response = as_clinician.get(therapies_url(patient.pk))

    assert response.status_code == 200
    assert response.json() == [earlier, later]
    (event,) = events(id__gt=mark)
    assert (event.action, event.patient_id) == ("view", patient.pk)


def test_it_shows_one_therapy_and_records_the_read(as_clinician, patient, therapy):
    response = as_clinician.get(therapy_url(patient.pk, therapy.pk))

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["kind"], body["end_date"]) == (therapy.pk, "ect", None)
    assert body["start_date"] == therapy.start_date.isoformat()
    (event,) = events(action="view")
    assert (event.patient_id, event.object_id) == (patient.pk, str(therapy.pk))


def test_a_therapy_of_another_patient_is_404_under_this_patient(as_clinician, practice, patient):
    other = TherapyFactory(patient=PatientFactory(practice=practice, identifier="MRN-2"))

    assert as_clinician.get(therapy_url(patient.pk, other.pk)).status_code == 404
    assert (
        as_clinician.delete(therapy_url(patient.pk, other.pk), REMOVAL, format="json").status_code
        == 404
    )
    assert row(other.pk)["deleted_at"] is None


# --------------------------------------------------------------------------------------
# Update and delete
# --------------------------------------------------------------------------------------


def test_it_updates_a_therapy_and_records_old_and_new(as_clinician, patient, therapy):
    response = as_clinician.patch(
        therapy_url(patient.pk, therapy.pk),
        {"end_date": days_ago(1), "outcome": "response"},
        format="json",
    )

    assert response.status_code == 200
    assert (response.json()["end_date"], response.json()["outcome"]) == (days_ago(1), "response")
    therapy.refresh_from_db()
    assert therapy.end_date == date.fromisoformat(days_ago(1))
    assert therapy.outcome == "response"
    (event,) = events(action="update", patient_id=patient.pk)
    assert event.details["changes"] == {
        "end_date": [None, days_ago(1)],
        "outcome": ["ongoing", "response"],
    }


@pytest.mark.parametrize(
    "change, field",
    [
        ({"kind": "hypnosis"}, "kind"),
        ({"end_date": days_ago(31)}, "end_date"),
        ({"end_date": days_ahead(1)}, "end_date"),
        ({"start_date": days_ahead(1)}, "start_date"),
        ({"start_date": "1970-01-01"}, "start_date"),
        ({"start_date": "2023-02-29"}, "start_date"),
        ({"outcome": "meh"}, "outcome"),
        ({"detail": "ok", "kind": "hypnosis"}, "kind"),
    ],
    ids=[
        "unknown_kind",
        "end_before_start",
        "end_in_the_future",
        "start_in_the_future",
        "start_before_birth",
        "impossible_start",
        "unknown_outcome",
        "mixed_valid_invalid",
    ],
)
def test_it_rejects_an_invalid_update_and_changes_nothing(
    as_clinician, patient, therapy, change, field
):
    before_row, before = row(therapy.pk), clinical_counts()

    response = as_clinician.patch(therapy_url(patient.pk, therapy.pk), change, format="json")

    assert_field_errors(response, field)
    assert row(therapy.pk) == before_row
    assert clinical_counts() == before


def test_delete_is_a_soft_delete(as_clinician, patient, therapy):
    response = as_clinician.delete(therapy_url(patient.pk, therapy.pk), REMOVAL, format="json")

    assert response.status_code == 204
    assert as_clinician.get(therapy_url(patient.pk, therapy.pk)).status_code == 404
    assert as_clinician.get(therapies_url(patient.pk)).json() == []
    assert row(therapy.pk)["deleted_at"] is not None
    (event,) = events(action="delete", patient_id=patient.pk)
    assert event.object_id == str(therapy.pk)
    assert (
        as_clinician.delete(therapy_url(patient.pk, therapy.pk), REMOVAL, format="json").status_code
        == 404
    )


# --------------------------------------------------------------------------------------
# Other practices and roles
# --------------------------------------------------------------------------------------


def test_it_hides_another_practices_therapies(as_outsider, patient, therapy):
    before_row = row(therapy.pk)

    assert as_outsider.get(therapies_url(patient.pk)).status_code == 404
    assert as_outsider.get(therapy_url(patient.pk, therapy.pk)).status_code == 404
    assert (
        as_outsider.post(therapies_url(patient.pk), therapy_payload(), format="json").status_code
        == 404
    )
    assert (
        as_outsider.patch(
            therapy_url(patient.pk, therapy.pk), {"kind": "tms"}, format="json"
        ).status_code
        == 404
    )
    assert as_outsider.delete(therapy_url(patient.pk, therapy.pk)).status_code == 404

    assert Therapy.objects.count() == 1
    assert row(therapy.pk) == before_row
    assert not AuditEvent.objects.exists()


def test_an_auditor_reads_therapies_but_cannot_change_them(as_auditor, patient, therapy):
    before_row = row(therapy.pk)

    assert as_auditor.get(therapies_url(patient.pk)).status_code == 200
    assert as_auditor.get(therapy_url(patient.pk, therapy.pk)).status_code == 200
    assert (
        as_auditor.post(therapies_url(patient.pk), therapy_payload(), format="json").status_code
        == 403
    )
    assert (
        as_auditor.patch(
            therapy_url(patient.pk, therapy.pk), {"kind": "tms"}, format="json"
        ).status_code
        == 403
    )
    assert as_auditor.delete(therapy_url(patient.pk, therapy.pk)).status_code == 403

    assert Therapy.objects.count() == 1
    assert row(therapy.pk) == before_row


def test_a_practice_admin_cannot_see_therapies(as_admin, patient, therapy):
    assert as_admin.get(therapies_url(patient.pk)).status_code == 403
    assert (
        as_admin.post(therapies_url(patient.pk), therapy_payload(), format="json").status_code
        == 403
    )
    assert Therapy.objects.count() == 1
