"""Request budgets on the endpoints an attacker can call in bulk."""

import pytest
from django.urls import reverse


def test_password_reset_mails_are_capped_per_address(client, clinician, mailoutbox):
    url = reverse("accounts:password-reset")
    answers = [client.post(url, {"email": "clinician@example.org"}).status_code for _ in range(20)]

    assert set(answers) == {302}  # the page never tells
    assert len(mailoutbox) == 3  # the per-account budget (3 an hour) ran out first


def test_password_reset_requests_are_capped_per_client_address(client, db, mailoutbox):
    url = reverse("accounts:password-reset")
    for n in range(10):
        client.post(url, {"email": f"someone{n}@example.org"})

    from accounts import ratelimit

    assert ratelimit.allow("reset-ip", "127.0.0.1", 5, 900) is False


def test_the_token_endpoint_is_throttled_per_address(api, clinician, password):
    client = api()
    answers = [
        client.post(
            "/api/v1/auth/token/", {"username": "nobody", "password": "x"}, format="json"
        ).status_code
        for _ in range(25)
    ]

    assert answers[:20] == [400] * 20
    assert set(answers[20:]) == {429}


@pytest.mark.usefixtures("eager")
def test_export_requests_are_throttled_per_user(
    api, auditor, django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    client = api(auditor)
    with django_capture_on_commit_callbacks(execute=True):
        answers = [
            client.post("/api/v1/exports/", {"kind": "audit_csv"}, format="json").status_code
            for _ in range(32)
        ]

    assert answers[:30] == [202] * 30 and set(answers[30:]) == {429}


def test_invitation_acceptance_is_capped_per_address(client, db):
    url = reverse("accounts:invitation-accept", args=["not-a-real-token"])
    answers = [client.post(url, {"username": "x", "password": "y"}).status_code for _ in range(12)]

    assert answers[-1] == 429 and answers[:10].count(429) == 0
