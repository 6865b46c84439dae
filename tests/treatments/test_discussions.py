"""The discussion record: what was said about each next-line option with the patient, and where
it stands (considering, chosen, declined, not suitable). Recorded by clinicians, read by
auditors, audited and versioned; the latest per option is shown beside it on the page, in the
options API and on the discussion sheet."""

import re
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from core.dates import today
from patients.scope import PatientScope
from reports.models import ExportJob
from reports.pdf import write_discussion_sheet
from tests.reports.exports_support import pdf_pages_text
from treatments import services
from treatments.models import Discussion
from treatments.selectors import latest_by_option, patient_history


def url(patient, discussion=None) -> str:
    base = f"/api/v1/patients/{patient.pk}/discussions/"
    return f"{base}{discussion.pk}/" if discussion else base


def days_ago(days: int) -> date:
    return today() - timedelta(days=days)


def record(patient, user=None, **fields) -> Discussion:
    values = {"option_key": "ect", "date": days_ago(10), "decision": "considering", "note": ""}
    return services.discussion_create(
        scope=PatientScope.trusted(user, patient), discussion=Discussion(**{**values, **fields})
    )


def flat(value: str) -> str:
    return " ".join(value.split())


def words(html: str) -> str:
    """The text of an HTML fragment, tags left out."""
    return flat(re.sub(r"<[^>]+>", " ", html)).replace(" :", ":")


# --- The model's rule --------------------------------------------------------------------


def test_an_unknown_option_key_is_refused_by_the_model(patient):
    discussion = Discussion(
        patient=patient, option_key="homeopathy", date=days_ago(1), decision="chosen"
    )

    with pytest.raises(ValidationError) as error:
        discussion.full_clean()

    assert "Unknown option 'homeopathy'" in error.value.message_dict["option_key"][0]


def test_every_option_key_of_the_options_file_is_accepted(patient):
    from treatments.options import load_options

    for option in load_options():
        Discussion(
            patient=patient, option_key=option.key, date=days_ago(1), decision="considering"
        ).full_clean()


@pytest.mark.parametrize(
    ("day", "message"),
    [
        (date(1980, 5, 16), "Cannot be before the patient's date of birth."),
        (today() + timedelta(days=1), "Cannot be in the future."),
    ],
)
def test_a_discussion_date_follows_the_clinical_date_rules(patient, day, message):
    discussion = Discussion(patient=patient, option_key="tms", date=day, decision="declined")

    with pytest.raises(ValidationError) as error:
        discussion.full_clean()

    assert error.value.message_dict["date"] == [message]


def test_the_latest_discussion_of_an_option_is_by_date_then_by_entry():
    earlier = Discussion(pk=9, option_key="ect", date=date(2026, 1, 5), decision="chosen")
    later = Discussion(pk=3, option_key="ect", date=date(2026, 2, 1), decision="declined")
    same_day_first = Discussion(
        pk=4, option_key="tms", date=date(2026, 3, 1), decision="considering"
    )
    same_day_second = Discussion(
        pk=5, option_key="tms", date=date(2026, 3, 1), decision="not_suitable"
    )

    latest = latest_by_option([later, same_day_second, earlier, same_day_first])

    assert latest == {"ect": later, "tms": same_day_second}


# --- Services: audited, versioned, removed with a reason ---------------------------------


def test_recording_a_discussion_writes_its_create_event_and_its_author(clinician, patient):
    discussion = record(patient, clinician, decision="chosen", note="agreed")

    assert discussion.created_by == clinician
    event = AuditEvent.objects.get(action="create", object_type="discussion")
    assert (event.actor, event.patient_id, event.object_id) == (
        "clinician",
        patient.pk,
        str(discussion.pk),
    )
    assert event.details["changes"]["decision"] == [None, "chosen"]
    assert event.details["changes"]["option_key"] == [None, "ect"]


def test_a_change_raises_the_version_and_writes_what_changed(clinician, patient):
    discussion = record(patient, clinician)
    scope = PatientScope.trusted(clinician, patient)

    services.discussion_update(
        scope=scope, discussion=discussion, changes={"decision": "declined"}, if_match={1}
    )

    discussion.refresh_from_db()
    assert (discussion.decision, discussion.version) == ("declined", 2)
    event = AuditEvent.objects.get(action="update", object_type="discussion")
    assert event.details["changes"] == {"decision": ["considering", "declined"]}


def test_an_update_that_changes_nothing_stores_no_version_and_no_event(clinician, patient):
    discussion = record(patient, clinician)

    services.discussion_update(
        scope=PatientScope.trusted(clinician, patient),
        discussion=discussion,
        changes={"decision": "considering"},
    )

    discussion.refresh_from_db()
    assert discussion.version == 1
    assert not AuditEvent.objects.filter(action="update").exists()


def test_a_removal_needs_a_reason_and_keeps_the_record_in_the_trail(clinician, patient):
    discussion = record(patient, clinician)
    scope = PatientScope.trusted(clinician, patient)

    with pytest.raises(ValidationError):
        services.discussion_delete(scope=scope, discussion=discussion, reason=" ")
    services.discussion_delete(scope=scope, discussion=discussion, reason="wrong patient")

    discussion.refresh_from_db()
    assert discussion.deleted_at is not None
    event = AuditEvent.objects.get(action="delete", object_type="discussion")
    assert event.details["reason"] == "wrong patient"
    assert not Discussion.objects.active().exists()


# --- API contract --------------------------------------------------------------------------


def test_a_clinician_records_a_discussion_and_reads_it_back(api, clinician, patient):
    client = api(clinician)

    response = client.post(
        url(patient),
        {
            "option_key": "augmentation",
            "date": "2026-01-10",
            "decision": "declined",
            "note": "prefers not",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in ("option_key", "date", "decision", "note")} == {
        "option_key": "augmentation",
        "date": "2026-01-10",
        "decision": "declined",
        "note": "prefers not",
    }
    listed = client.get(url(patient)).json()
    assert [set(item) for item in listed] == [
        {"id", "option_key", "date", "decision", "note", "version"}
    ]
    assert listed[0]["id"] == body["id"]


@pytest.mark.parametrize(
    ("payload", "field", "says"),
    [
        ({"option_key": "homeopathy"}, "option_key", "Unknown option 'homeopathy'"),
        ({"decision": "maybe"}, "decision", "is not a valid choice"),
        ({"date": "2026-02-30"}, "date", "Date has wrong format"),
        ({"date": (today() + timedelta(days=2)).isoformat()}, "date", "Cannot be in the future"),
        ({"date": "1970-01-01"}, "date", "before the patient's date of birth"),
        ({"note": "x" * 2001}, "note", "no more than 2000 characters"),
    ],
)
def test_a_bad_discussion_is_a_400_on_its_field(api, clinician, patient, payload, field, says):
    valid = {"option_key": "ect", "date": "2026-01-10", "decision": "considering"}

    response = api(clinician).post(url(patient), {**valid, **payload}, format="json")

    assert response.status_code == 400, response.content
    assert says in " ".join(response.json()[field])
    assert not Discussion.objects.exists()


def test_auditors_read_discussions_but_cannot_write_them(api, auditor, clinician, patient):
    discussion = record(patient, clinician)
    client = api(auditor)

    assert client.get(url(patient)).json()[0]["id"] == discussion.pk
    assert client.get(url(patient, discussion)).status_code == 200
    assert (
        client.post(
            url(patient),
            {"option_key": "ect", "date": "2026-01-10", "decision": "chosen"},
            format="json",
        ).status_code
        == 403
    )
    assert (
        client.patch(url(patient, discussion), {"decision": "chosen"}, format="json").status_code
        == 403
    )
    assert (
        client.delete(url(patient, discussion), {"reason": "no"}, format="json").status_code == 403
    )
    discussion.refresh_from_db()
    assert (discussion.decision, discussion.deleted_at) == ("considering", None)


def test_another_practice_gets_404_for_the_list_and_the_record(api, outsider, clinician, patient):
    discussion = record(patient, clinician)
    client = api(outsider)

    assert client.get(url(patient)).status_code == 404
    assert client.get(url(patient, discussion)).status_code == 404
    assert (
        client.post(
            url(patient),
            {"option_key": "ect", "date": "2026-01-10", "decision": "chosen"},
            format="json",
        ).status_code
        == 404
    )
    assert (
        client.patch(url(patient, discussion), {"decision": "chosen"}, format="json").status_code
        == 404
    )


def test_a_discussion_of_another_patient_is_404(api, clinician, patient):
    from tests.factories import PatientFactory

    other = PatientFactory(practice=patient.practice)
    discussion = record(other, clinician)

    assert api(clinician).get(url(patient, discussion)).status_code == 404


def test_a_stale_if_match_is_412_and_changes_nothing(api, clinician, colleague, patient):
    discussion = record(patient, clinician)
    api(colleague).patch(url(patient, discussion), {"note": "colleague"}, format="json")

    response = api(clinician).patch(
        url(patient, discussion), {"decision": "chosen"}, format="json", HTTP_IF_MATCH='"1"'
    )

    assert response.status_code == 412
    discussion.refresh_from_db()
    assert (discussion.decision, discussion.note, discussion.version) == (
        "considering",
        "colleague",
        2,
    )


def test_a_patch_answers_the_new_version_with_its_etag(api, clinician, patient):
    discussion = record(patient, clinician)

    response = api(clinician).patch(
        url(patient, discussion), {"decision": "chosen"}, format="json", HTTP_IF_MATCH='"1"'
    )

    assert response.status_code == 200
    assert response["ETag"] == '"2"'
    assert response.json()["decision"] == "chosen"


def test_a_delete_needs_a_reason(api, clinician, patient):
    discussion = record(patient, clinician)
    client = api(clinician)

    refused = client.delete(url(patient, discussion))
    assert refused.status_code == 400
    assert "reason" in refused.json()

    assert (
        client.delete(
            url(patient, discussion), {"reason": "entered twice"}, format="json"
        ).status_code
        == 204
    )
    assert client.get(url(patient)).json() == []
    assert client.get(url(patient, discussion)).status_code == 404


# --- Shown beside each option: options API, page, sheet -------------------------------------


def test_the_options_api_gives_each_option_its_latest_discussion(api, clinician, patient):
    record(patient, clinician, option_key="ect", date=days_ago(30), decision="considering")
    latest = record(
        patient,
        clinician,
        option_key="ect",
        date=days_ago(2),
        decision="declined",
        note="worried about memory",
    )
    gone = record(patient, clinician, option_key="tms", date=days_ago(1), decision="chosen")
    services.discussion_delete(
        scope=PatientScope.trusted(clinician, patient), discussion=gone, reason="wrong option"
    )

    options = {
        o["key"]: o for o in api(clinician).get(f"/api/v1/patients/{patient.pk}/options/").json()
    }

    assert options["ect"]["last_discussion"] == {
        "id": latest.pk,
        "date": days_ago(2).isoformat(),
        "decision": "declined",
        "note": "worried about memory",
    }
    assert options["tms"]["last_discussion"] is None


def test_the_history_loads_the_discussions_in_one_query_whatever_their_number(patient, clinician):
    def queries_and_latest():
        with CaptureQueriesContext(connection) as queries:
            history = patient_history(patient)
        return len(queries), set(history.last_discussions())

    record(patient, clinician, option_key="ect")
    before, _ = queries_and_latest()
    record(patient, clinician, option_key="tms")
    record(patient, clinician, option_key="lifestyle")

    assert queries_and_latest() == (before, {"ect", "tms", "lifestyle"})


def test_the_page_shows_the_latest_discussion_beside_its_option(login, clinician, patient):
    record(patient, clinician, option_key="ect", date=date(2026, 1, 4), decision="considering")
    record(
        patient,
        clinician,
        option_key="ect",
        date=date(2026, 1, 30),
        decision="declined",
        note="prefers to wait",
    )

    page = login(clinician).get(f"/patients/{patient.pk}/").content.decode()

    card = page[page.index('data-last-discussion="ect"') :]
    card = card[: card.index("</div>")]
    assert "Discussed 2026-01-30: declined — prefers to wait" in words(card)
    assert "2026-01-04" not in page
    assert f"/patients/{patient.pk}/discussions/new/?option=ect" in card


def test_auditors_see_the_discussions_but_no_record_link(login, auditor, clinician, patient):
    record(patient, clinician, option_key="tms", date=date(2026, 2, 2), decision="chosen")

    page = login(auditor).get(f"/patients/{patient.pk}/").content.decode()

    assert "Discussed 2026-02-02: chosen" in words(page)
    assert "/discussions/new/" not in page


def test_a_clinician_records_a_discussion_on_the_web(login, clinician, patient):
    client = login(clinician)
    form = client.get(f"/patients/{patient.pk}/discussions/new/?option=ketamine_esketamine")
    assert 'value="ketamine_esketamine" selected' in form.content.decode()

    response = client.post(
        f"/patients/{patient.pk}/discussions/new/",
        {
            "option_key": "ketamine_esketamine",
            "date": days_ago(1).isoformat(),
            "decision": "not_suitable",
            "note": "uncontrolled hypertension",
        },
    )

    assert response.status_code == 302
    saved = Discussion.objects.get()
    assert (saved.option_key, saved.decision, saved.created_by) == (
        "ketamine_esketamine",
        "not_suitable",
        clinician,
    )
    assert AuditEvent.objects.filter(action="create", object_type="discussion").exists()


def test_the_web_form_refuses_an_unknown_option(login, clinician, patient):
    response = login(clinician).post(
        f"/patients/{patient.pk}/discussions/new/",
        {"option_key": "homeopathy", "date": days_ago(1).isoformat(), "decision": "chosen"},
    )

    assert response.status_code == 200
    assert "form" in response.context and response.context["form"].errors["option_key"]
    assert not Discussion.objects.exists()


def test_auditors_cannot_open_the_discussion_form(login, auditor, patient):
    assert login(auditor).get(f"/patients/{patient.pk}/discussions/new/").status_code == 403


def sheet_text(patient, user, tmp_path, **options) -> str:
    job = ExportJob.objects.create(
        practice=patient.practice,
        created_by=user,
        kind="patient_pdf",
        options={"patient": patient.pk, **options},
    )
    job.patients_included = set()
    path = tmp_path / "sheet.pdf"
    write_discussion_sheet(job, path, lambda done, total: None)
    return flat(" ".join(pdf_pages_text(path.read_bytes())))


def test_the_discussion_sheet_shows_each_options_latest_discussion(clinician, patient, tmp_path):
    record(patient, clinician, option_key="ect", date=date(2026, 1, 4), decision="considering")
    record(
        patient,
        clinician,
        option_key="ect",
        date=date(2026, 1, 30),
        decision="declined",
        note="prefers to wait",
    )

    text = sheet_text(patient, clinician, tmp_path)

    assert "Discussed 2026-01-30: declined — prefers to wait" in text
    assert "2026-01-04" not in text


def test_a_de_identified_sheet_leaves_the_free_text_note_out(auditor, clinician, patient, tmp_path):
    record(
        patient,
        clinician,
        option_key="tms",
        date=date(2026, 1, 30),
        decision="chosen",
        note="MRN-1 asked for mornings",
    )

    text = sheet_text(patient, auditor, tmp_path, deidentify=True)

    assert "Discussed 2026-01-30: chosen" in text
    assert "asked for mornings" not in text
