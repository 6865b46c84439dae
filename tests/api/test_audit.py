"""Every read of a patient's data and every change through the API leaves an AuditEvent."""

from base64 import b64encode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api.pagination import AuditCursorPagination
from audit.models import AuditEvent
from patients.models import Patient
from tests.audit.helpers import events_in_ties, newest_first

from .helpers import (
    PATIENTS_URL,
    REMOVAL,
    day,
    events,
    options_url,
    patient_url,
    post_therapy,
    post_trial,
    therapies_url,
    therapy_payload,
    therapy_url,
    trd_url,
    trial_payload,
    trial_url,
    trials_url,
)

READS = {
    "patient_detail": lambda p, r: patient_url(p.pk),
    "trial_list": lambda p, r: trials_url(p.pk),
    "trial_detail": lambda p, r: trial_url(p.pk, r["trial"].pk),
    "therapy_list": lambda p, r: therapies_url(p.pk),
    "therapy_detail": lambda p, r: therapy_url(p.pk, r["therapy"].pk),
    "trd": lambda p, r: trd_url(p.pk),
    "trd_as_of": lambda p, r: trd_url(p.pk, day(10)),
    "options": lambda p, r: options_url(p.pk),
}


@pytest.mark.parametrize("read", list(READS), ids=list(READS))
def test_each_read_of_a_patients_data_writes_one_view_event(
    as_clinician, practice, patient, records, read
):
    response = as_clinician.get(READS[read](patient, records))

    assert response.status_code == 200
    (event,) = events()
    assert event.action == "view"
    assert event.patient_id == patient.pk
    assert event.practice_id == practice.pk
    assert event.actor == "clinician"


@pytest.mark.parametrize("read", list(READS), ids=list(READS))
def test_an_auditors_reads_are_audited_under_their_own_name(as_auditor, patient, records, read):
    assert as_auditor.get(READS[read](patient, records)).status_code == 200

    (event,) = events()
    assert (event.action, event.actor, event.patient_id) == ("view", "auditor", patient.pk)


@pytest.mark.parametrize("read", list(READS), ids=list(READS))
def test_an_outsiders_refused_reads_write_nothing_about_the_patient(
    as_outsider, patient, records, read
):
    assert as_outsider.get(READS[read](patient, records)).status_code == 404

    assert not AuditEvent.objects.exists()


def test_listing_patients_exposes_no_clinical_history_and_is_not_a_patient_read(
    as_clinician, patient
):
    as_clinician.get(PATIENTS_URL)

    assert not AuditEvent.objects.filter(patient_id=patient.pk).exists()


def test_creates_record_every_new_value(as_clinician, patient):
    created_patient = as_clinician.post(
        PATIENTS_URL, {"identifier": "MRN-77", "date_of_birth": "1990-01-01"}, format="json"
    ).json()
    trial = post_trial(as_clinician, patient.pk, dose_changes=[{"date": day(7), "dose_mg": 150}])
    therapy = post_therapy(as_clinician, patient.pk)

    creates = events(action="create")

    assert [(e.object_type, e.object_id) for e in creates] == [
        ("patient", str(created_patient["id"])),
        ("trial", str(trial["id"])),
        ("therapy", str(therapy["id"])),
    ]
    assert creates[0].patient_id == created_patient["id"]
    assert creates[0].details["changes"]["identifier"] == [None, "MRN-77"]
    assert creates[1].patient_id == creates[2].patient_id == patient.pk
    assert creates[1].details["changes"]["outcome"] == [None, "no_response"]
    assert creates[1].details["changes"]["end_date"] == [None, day(60)]
    assert creates[2].details["changes"]["kind"] == [None, "ect"]
    assert creates[2].details["changes"]["detail"] == [None, "bilateral, 12 sessions"]


def test_updates_record_old_and_new_for_changed_fields_only(as_clinician, patient, records):
    trial, therapy = records["trial"], records["therapy"]

    as_clinician.patch(patient_url(patient.pk), {"notes": "moved"}, format="json")
    as_clinician.patch(trial_url(patient.pk, trial.pk), {"adherence": "partial"}, format="json")
    # An ECT course turned into TMS: its placement, ECT only, is cleared with it.
    as_clinician.patch(
        therapy_url(patient.pk, therapy.pk), {"kind": "tms", "ect_placement": ""}, format="json"
    )

    updates = events(action="update")
    assert [e.object_type for e in updates] == ["patient", "trial", "therapy"]
    assert all(e.patient_id == patient.pk for e in updates)
    assert updates[0].details["changes"] == {"notes": [None, "moved"]}
    assert updates[1].details["changes"] == {"adherence": ["good", "partial"]}
    assert updates[2].details["changes"] == {
        "kind": ["ect", "tms"],
        "ect_placement": ["unknown", None],
    }


def test_deletes_write_delete_events(as_clinician, patient, records):
    as_clinician.delete(trial_url(patient.pk, records["trial"].pk), REMOVAL, format="json")
    as_clinician.delete(therapy_url(patient.pk, records["therapy"].pk), REMOVAL, format="json")
    as_clinician.delete(patient_url(patient.pk), REMOVAL, format="json")

    deletes = events(action="delete")
    assert [(e.object_type, e.object_id) for e in deletes] == [
        ("trial", str(records["trial"].pk)),
        ("therapy", str(records["therapy"].pk)),
        ("patient", str(patient.pk)),
    ]
    assert all(e.patient_id == patient.pk and e.actor == "clinician" for e in deletes)


def test_delete_events_record_old_and_new_values_like_other_changes(as_clinician, patient, records):
    as_clinician.delete(trial_url(patient.pk, records["trial"].pk), REMOVAL, format="json")
    as_clinician.delete(therapy_url(patient.pk, records["therapy"].pk), REMOVAL, format="json")
    as_clinician.delete(patient_url(patient.pk), REMOVAL, format="json")

    for event in events(action="delete"):
        changes = event.details["changes"]
        assert changes["deleted_at"][0] is None
        assert changes["deleted_at"][1]


def test_a_rejected_request_writes_no_event(as_clinician, patient, records):
    trial, therapy = records["trial"], records["therapy"]

    responses = [
        as_clinician.post(
            PATIENTS_URL, {"identifier": "MRN-1", "date_of_birth": "1990-01-01"}, format="json"
        ),
        as_clinician.patch(patient_url(patient.pk), {"date_of_birth": "2999-01-01"}, format="json"),
        as_clinician.post(trials_url(patient.pk), trial_payload(dose_mg=2001), format="json"),
        as_clinician.patch(trial_url(patient.pk, trial.pk), {"outcome": "x"}, format="json"),
        as_clinician.post(therapies_url(patient.pk), therapy_payload(kind="x"), format="json"),
        as_clinician.patch(therapy_url(patient.pk, therapy.pk), {"kind": "x"}, format="json"),
        as_clinician.get(trd_url(patient.pk, "2024-02-30")),
    ]

    assert [r.status_code for r in responses] == [400] * len(responses)
    assert not AuditEvent.objects.exists()
    assert Patient.objects.count() == 1


def test_a_forbidden_request_writes_no_event(as_auditor, as_admin, patient, records):
    as_auditor.post(trials_url(patient.pk), trial_payload(), format="json")
    as_auditor.delete(patient_url(patient.pk))
    as_admin.get(patient_url(patient.pk))
    as_admin.get(trd_url(patient.pk))

    assert not AuditEvent.objects.exists()


# --- The audit list: cursor pages, newest first, nothing counted ------------------------------

AUDIT_EVENTS_URL = "/api/v1/audit-events/"


def walk_api(client, url, link="next") -> tuple[list[int], list[dict]]:
    """Follow the answers' `link` from `url` to the end: the event ids shown, and the bodies."""
    shown, bodies = [], []
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        shown += [row["id"] for row in body["results"]]
        bodies.append(body)
        url = body[link]
    return shown, bodies


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(AuditCursorPagination, "page_size", 3)


def test_next_links_walk_every_filtered_event_once_newest_first_through_ties(
    small_pages, as_auditor, practice, other_practice
):
    written = events_in_ties(practice)
    events_in_ties(other_practice)
    views = newest_first([e for e in written if e.action == "view"])

    shown, bodies = walk_api(as_auditor, f"{AUDIT_EVENTS_URL}?action=view")

    assert shown == views
    assert [len(body["results"]) for body in bodies] == [3, 3, 3, 1]
    assert set(bodies[0]) == {"next", "previous", "results"}
    assert bodies[0]["previous"] is None
    assert all("action=view" in body["next"] for body in bodies[:-1])


def test_previous_links_walk_back_to_the_newest_event(small_pages, as_auditor, practice):
    written = events_in_ties(practice)
    _, bodies = walk_api(as_auditor, f"{AUDIT_EVENTS_URL}?action=view")

    back, _ = walk_api(as_auditor, bodies[-1]["previous"], link="previous")

    views = newest_first([e for e in written if e.action == "view"])
    assert back == views[6:9] + views[3:6] + views[0:3]


def test_the_audit_list_runs_no_count(as_auditor, practice):
    events_in_ties(practice, per_moment=20)
    following = as_auditor.get(AUDIT_EVENTS_URL).json()["next"]

    for url in (AUDIT_EVENTS_URL, f"{AUDIT_EVENTS_URL}?action=view", following):
        with CaptureQueriesContext(connection) as queries:
            assert as_auditor.get(url).status_code == 200
        assert not [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()], url


def cursor_of(query: str) -> str:
    return b64encode(query.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "%%%",
        "é",
        cursor_of("o=x"),
        cursor_of("r=x"),
        cursor_of("p=tomorrow"),
        cursor_of("p=2026-01-01 00:00:00+00:00"),
        cursor_of("p=1.99999999999999999999"),
        cursor_of("p=-1.5"),
        cursor_of("p=1.5.") + "=",
    ],
)
def test_a_garbled_cursor_is_a_404(as_auditor, practice, cursor):
    events_in_ties(practice)

    response = as_auditor.get(AUDIT_EVENTS_URL, {"cursor": cursor})

    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid cursor"}


def test_an_empty_cursor_is_a_400_like_any_empty_parameter(as_auditor, practice):
    response = as_auditor.get(AUDIT_EVENTS_URL, {"cursor": ""})

    assert response.status_code == 400
    assert list(response.json()) == ["cursor"]
