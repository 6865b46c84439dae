"""The patient's own PHQ-9 by a single-use link (treatments.self_report): made by clinicians,
answered once on a public page that shows no patient data, stored as a self-reported score."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from accounts.models import DEFAULT_CRISIS_TEXT, Role
from audit.models import AuditEvent
from core.dates import today
from patients.scope import PatientScope, patients_visible_to
from tests.factories import ScaleScoreFactory, member
from treatments import self_report
from treatments.models import ScaleScore, SelfReportLink
from treatments.selectors import clinician_worklist, patient_history
from treatments.self_report_views import SUBMIT_LIMIT

ITEMS = [2, 2, 1, 2, 1, 1, 1, 1, 1]  # total 12, item 9 = 1


def answers(items=ITEMS, difficulty=1) -> dict:
    data = {f"item_{n}": str(value) for n, value in enumerate(items, start=1)}
    if difficulty is not None:
        data["difficulty"] = str(difficulty)
    return data


def make_link(patient, clinician) -> tuple[SelfReportLink, str]:
    scope = PatientScope(clinician, patient, ip="10.0.0.1")
    return self_report.link_create(scope=scope)


def token_of(url: str) -> str:
    return re.search(r"/r/([^/]+)/$", url).group(1)


# --- Making a link ----------------------------------------------------------------------


def test_the_api_makes_a_link_and_stores_only_the_tokens_hash(api, clinician, patient):
    response = api(clinician).post(
        f"/api/v1/patients/{patient.pk}/self-report-links/", {"scale": "phq9"}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "url", "expires"}
    assert body["url"].startswith("http://testserver/r/")
    token = token_of(body["url"])
    assert len(token) >= 43  # 32 random bytes, base64: 256 bits
    link = SelfReportLink.objects.get(pk=body["id"])
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(SelfReportLink.objects.filter(pk=link.pk).values().get())
    event = AuditEvent.objects.get(action="create", object_type="selfreportlink")
    assert (event.patient_id, event.actor) == (patient.pk, "clinician")
    assert token not in str(event.details)


@override_settings(SELF_REPORT_LINK_DAYS=3)
def test_a_link_expires_after_the_configured_days(api, clinician, patient):
    body = (
        api(clinician)
        .post(f"/api/v1/patients/{patient.pk}/self-report-links/", {"scale": "phq9"}, format="json")
        .json()
    )

    link = SelfReportLink.objects.get(pk=body["id"])
    assert abs(link.expires_at - (timezone.now() + timedelta(days=3))) < timedelta(minutes=1)


def test_the_link_list_never_shows_a_token(api, clinician, patient):
    link, token = make_link(patient, clinician)

    response = api(clinician).get(f"/api/v1/patients/{patient.pk}/self-report-links/")

    assert response.status_code == 200
    assert [item["id"] for item in response.json()] == [link.pk]
    assert token not in response.content.decode()
    assert "token" not in response.json()[0] and "url" not in response.json()[0]


def test_an_unknown_scale_is_a_400(api, clinician, patient):
    response = api(clinician).post(
        f"/api/v1/patients/{patient.pk}/self-report-links/", {"scale": "madrs"}, format="json"
    )

    assert response.status_code == 400
    assert "scale" in response.json()
    assert not SelfReportLink.objects.exists()


@pytest.mark.parametrize("who", ["auditor", "practice_admin"])
def test_only_clinicians_make_links(who, request, api, patient):
    user = request.getfixturevalue(who)

    response = api(user).post(
        f"/api/v1/patients/{patient.pk}/self-report-links/", {"scale": "phq9"}, format="json"
    )

    assert response.status_code == 403
    assert not SelfReportLink.objects.exists()


def test_an_auditor_cannot_make_a_link_on_the_web_either(login, auditor, patient):
    response = login(auditor).post(f"/patients/{patient.pk}/self-report-links/new/")

    assert response.status_code == 403
    assert not SelfReportLink.objects.exists()


def test_it_hides_patient_from_other_practice(
    api, login, outsider, outsiders_patient, clinician, patient
):
    make_link(patient, clinician)

    assert (
        api(clinician)
        .post(
            f"/api/v1/patients/{outsiders_patient.pk}/self-report-links/",
            {"scale": "phq9"},
            format="json",
        )
        .status_code
        == 404
    )
    assert api(outsider).get(f"/api/v1/patients/{patient.pk}/self-report-links/").status_code == 404
    assert login(outsider).post(f"/patients/{patient.pk}/self-report-links/new/").status_code == 404
    assert SelfReportLink.objects.count() == 1


def test_the_web_shows_the_link_once_with_a_qr_code(login, clinician, patient):
    client = login(clinician)

    response = client.post(f"/patients/{patient.pk}/self-report-links/new/")

    assert response.status_code == 200
    page = response.content.decode()
    url = re.search(r'id="self-report-url">([^<]+)<', page).group(1)
    link = SelfReportLink.objects.get()
    assert link.token_hash == self_report.hash_token(token_of(url))
    assert "<svg" in page and 'class="segno"' in page
    assert not re.search(r"<svg[^>]*\bstyle=", page)  # CSP: no inline style on the code
    # The patient page lists the open link with its expiry, never its address.
    detail = client.get(patient.get_absolute_url()).content.decode()
    assert f"PHQ-9 link #{link.pk}" in detail and url not in detail


# --- Answering it -------------------------------------------------------------------------


def test_the_public_page_shows_no_patient_data(client, practice, patient):
    clinician = member(practice, Role.CLINICIAN, username="dr-hollis")
    _, token = make_link(patient, clinician)

    response = client.get(f"/r/{token}/")

    assert response.status_code == 200
    page = response.content.decode()
    assert patient.identifier not in page
    assert patient.date_of_birth.isoformat() not in page
    assert clinician.username not in page
    # The token never leaves for another site in a Referer (the header and the page agree).
    assert '<meta name="referrer" content="same-origin">' in page
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-store" in response["Cache-Control"]
    assert page.count('type="radio"') == 9 * 4 + 4
    assert "csrfmiddlewaretoken" in page
    assert "{#" not in page and "Referer" not in page  # template comments stay comments


def test_an_answer_is_stored_as_a_self_reported_phq9(client, clinician, patient):
    link, token = make_link(patient, clinician)

    response = client.post(f"/r/{token}/", answers(), REMOTE_ADDR="203.0.113.7")

    assert response.status_code == 200
    score = ScaleScore.objects.get()
    assert (
        score.patient,
        score.scale,
        score.total,
        score.items,
        score.difficulty,
        score.source,
        score.date,
    ) == (patient, "phq9", 12, ITEMS, 1, "self_report", today())
    link.refresh_from_db()
    assert link.used_at is not None and link.score == score
    assert patient.identifier not in response.content.decode()


def test_the_thank_you_page_shows_the_practices_crisis_text(client, clinician, patient, practice):
    _, token = make_link(patient, clinician)
    default = client.post(f"/r/{token}/", answers()).content.decode()
    assert DEFAULT_CRISIS_TEXT in default

    practice.self_report_crisis_text = "Ring the Oakfield crisis line on 0800 000 000."
    practice.save()
    _, token = make_link(patient, clinician)
    configured = client.post(f"/r/{token}/", answers()).content.decode()
    assert "Ring the Oakfield crisis line on 0800 000 000." in configured
    assert DEFAULT_CRISIS_TEXT not in configured


def test_the_default_crisis_text_names_emergency_services_and_promises_nothing_else():
    assert "emergency number" in DEFAULT_CRISIS_TEXT
    assert "emergency department" in DEFAULT_CRISIS_TEXT
    assert not re.search(r"\b(we|will|contact you|call you back)\b", DEFAULT_CRISIS_TEXT, re.I)


def test_an_answer_is_audited_with_the_link_and_the_address(client, clinician, patient):
    link, token = make_link(patient, clinician)

    client.post(f"/r/{token}/", answers(), REMOTE_ADDR="203.0.113.7")

    score = ScaleScore.objects.get()
    created = AuditEvent.objects.get(action="create", object_type="scalescore")
    assert (created.actor, created.ip, created.patient_id, created.object_id) == (
        f"self-report link #{link.pk}",
        "203.0.113.7",
        patient.pk,
        str(score.pk),
    )
    used = AuditEvent.objects.get(action="update", object_type="selfreportlink")
    assert used.details["link"] == link.pk and used.details["score"] == score.pk
    assert used.ip == "203.0.113.7"


def test_a_link_works_once(client, clinician, patient):
    _, token = make_link(patient, clinician)
    assert client.post(f"/r/{token}/", answers()).status_code == 200

    second = client.post(f"/r/{token}/", answers([0] * 9))

    assert second.status_code == 410
    assert client.get(f"/r/{token}/").status_code == 410
    assert ScaleScore.objects.count() == 1


def test_an_expired_link_answers_410(client, clinician, patient):
    link, token = make_link(patient, clinician)
    SelfReportLink.objects.filter(pk=link.pk).update(expires_at=timezone.now())

    assert client.get(f"/r/{token}/").status_code == 410
    assert client.post(f"/r/{token}/", answers()).status_code == 410
    assert not ScaleScore.objects.exists()


def test_an_unknown_token_answers_410_like_a_used_one(client, db):
    # 410, not 404: the page does not say whether a token ever existed.
    response = client.get("/r/not-a-real-token-at-all/")

    assert response.status_code == 410
    assert "no longer works" in response.content.decode()


def test_a_submit_on_a_used_link_raises_gone_in_the_service(clinician, patient):
    _, token = make_link(patient, clinician)
    self_report.submit(token=token, items=ITEMS, difficulty=0, ip=None)

    with pytest.raises(self_report.LinkGone):
        self_report.submit(token=token, items=ITEMS, difficulty=0, ip=None)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({**answers(), "item_9": "4"}, "item_9"),
        ({**answers(), "item_3": "-1"}, "item_3"),
        ({k: v for k, v in answers().items() if k != "item_5"}, "item_5"),
        (answers(difficulty=None), "difficulty"),
        ({**answers(), "difficulty": "7"}, "difficulty"),
    ],
)
def test_answers_out_of_range_are_a_400_with_the_field_marked(
    client, clinician, patient, data, field
):
    link, token = make_link(patient, clinician)

    response = client.post(f"/r/{token}/", data)

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not ScaleScore.objects.exists()
    link.refresh_from_db()
    assert link.used_at is None  # the patient can correct and send again


def test_the_service_refuses_items_out_of_range(clinician, patient):
    _, token = make_link(patient, clinician)

    with pytest.raises(self_report.ValidationError):
        self_report.submit(token=token, items=[0] * 8 + [4], difficulty=0, ip=None)
    with pytest.raises(self_report.ValidationError):
        self_report.submit(token=token, items=[0] * 9, difficulty=4, ip=None)
    assert not ScaleScore.objects.exists()


def test_submissions_are_rate_limited_per_address(client, clinician, patient):
    _, token = make_link(patient, clinician)
    bad = {**answers(), "item_1": "9"}

    codes = [
        client.post(f"/r/{token}/", bad, REMOTE_ADDR="198.51.100.1").status_code
        for _ in range(SUBMIT_LIMIT + 1)
    ]

    assert codes == [400] * SUBMIT_LIMIT + [429]
    assert client.post(f"/r/{token}/", answers(), REMOTE_ADDR="198.51.100.1").status_code == 429
    # Another address is not held up.
    assert client.post(f"/r/{token}/", answers(), REMOTE_ADDR="198.51.100.2").status_code == 200


def test_the_public_page_needs_the_csrf_token(clinician, patient):
    from django.test import Client

    _, token = make_link(patient, clinician)

    response = Client(enforce_csrf_checks=True).post(f"/r/{token}/", answers())

    assert response.status_code == 403
    assert not ScaleScore.objects.exists()


# --- What follows from a self-report ----------------------------------------------------


def test_scores_in_the_api_say_their_source(api, clinician, patient):
    ScaleScoreFactory(
        patient=patient, scale="phq9", items=[1] * 9, total=9, date=today() - timedelta(days=7)
    )
    _, token = make_link(patient, clinician)
    self_report.submit(token=token, items=ITEMS, difficulty=2, ip=None)

    scores = api(clinician).get(f"/api/v1/patients/{patient.pk}/scores/").json()

    assert [score["source"] for score in scores] == ["clinician", "self_report"]


def test_the_source_cannot_be_set_through_the_api(api, clinician, patient):
    response = api(clinician).post(
        f"/api/v1/patients/{patient.pk}/scores/",
        {"scale": "phq9", "date": today().isoformat(), "items": [0] * 9, "source": "self_report"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["source"] == "clinician"


def test_an_item_9_above_0_raises_the_banner_and_the_worklist_at_once(
    client, login, clinician, patient
):
    ScaleScoreFactory(
        patient=patient, scale="phq9", items=[0] * 9, total=0, date=today() - timedelta(days=7)
    )
    _, token = make_link(patient, clinician)

    client.post(f"/r/{token}/", answers())

    assert patient_history(patient).suicide_risk.phq9_item9 == 1
    rows = clinician_worklist(patients_visible_to(clinician)).suicide_risk
    assert [row.patient.pk for row in rows] == [patient.pk]
    page = login(clinician).get(patient.get_absolute_url()).content.decode()
    assert 'id="suicide-risk"' in page
    assert "self-reported" in page


# --- E-mail -------------------------------------------------------------------------------


def test_the_email_holds_the_link_and_the_practice_name_only(
    login, clinician, patient, practice, django_capture_on_commit_callbacks
):
    link, token = make_link(patient, clinician)

    with django_capture_on_commit_callbacks(execute=True):
        response = login(clinician).post(
            f"/patients/{patient.pk}/self-report-links/email/",
            {"email": "someone@example.org", "link": link.pk, "token": token},
        )

    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == ["someone@example.org"]
    text = message.subject + message.body
    assert f"http://testserver/r/{token}/" in text
    assert practice.name in text
    for private in (
        patient.identifier,
        patient.date_of_birth.isoformat(),
        clinician.username,
        "PHQ-9",
        "depress",
    ):
        assert private not in text
    event = AuditEvent.objects.get(
        object_type="selfreportlink", details__event="self_report_link_emailed"
    )
    assert (event.patient_id, event.actor, event.details["link"]) == (
        patient.pk,
        "clinician",
        link.pk,
    )
    assert "someone@example.org" not in str(event.details)


def test_only_a_links_own_token_can_be_emailed(
    login, clinician, patient, django_capture_on_commit_callbacks
):
    link, _ = make_link(patient, clinician)

    with django_capture_on_commit_callbacks(execute=True):
        login(clinician).post(
            f"/patients/{patient.pk}/self-report-links/email/",
            {"email": "someone@example.org", "link": link.pk, "token": "made-up"},
        )

    assert mail.outbox == []


# --- The practice setting -----------------------------------------------------------------


def test_a_practice_admin_sets_the_crisis_text(login, practice_admin, practice):
    response = login(practice_admin).post(
        "/accounts/settings/",
        {
            "session_idle_minutes": "30",
            "self_report_crisis_text": "Call the Oakfield duty team on 0100 000 000.",
        },
    )

    assert response.status_code == 302, response.content
    practice.refresh_from_db()
    assert practice.crisis_text == "Call the Oakfield duty team on 0100 000 000."
    assert AuditEvent.objects.filter(
        details__event="settings_changed", details__changes__has_key="self_report_crisis_text"
    ).exists()
