"""A lockout that cannot be raced or weaponised (per address, a ceiling across addresses)."""

import threading

import pytest
from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.urls import reverse

from accounts import signin
from audit.models import Action, AuditEvent


def sign_in(client, username, password, ip="10.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


@pytest.mark.django_db
def test_an_attacker_elsewhere_cannot_keep_the_owner_out(client, clinician, password):
    for _ in range(signin.LOCKOUT_FAILURES):
        sign_in(client, "clinician", "wrong-password", ip="203.0.113.9")

    assert signin.locked_until("clinician", "203.0.113.9") is not None
    assert sign_in(client, "clinician", password, ip="203.0.113.9").status_code == 200
    assert sign_in(client, "clinician", password, ip="198.51.100.7").status_code == 302


@pytest.mark.django_db
def test_failures_from_many_addresses_lock_everywhere_and_alert_the_admins(
    client, clinician, practice_admin, password, mailoutbox
):
    practice_admin.email = "admin@example.org"
    practice_admin.save()
    for n in range(signin.LOCKOUT_CEILING):
        sign_in(client, "clinician", "wrong-password", ip=f"203.0.113.{n}")

    assert sign_in(client, "clinician", password, ip="198.51.100.7").status_code == 200
    assert signin.lock_state("clinician", "198.51.100.7")[1] is True
    (mail,) = mailoutbox
    assert mail.to == ["admin@example.org"] and "clinician" in mail.body
    locked = AuditEvent.objects.get(action=Action.LOCKOUT, details__scope="all addresses")
    assert locked.actor == "clinician"


@pytest.mark.django_db
def test_a_password_reset_clears_the_lock(client, clinician, password):
    for _ in range(signin.LOCKOUT_FAILURES):
        sign_in(client, "clinician", "wrong-password")
    assert signin.locked_until("clinician") is not None

    signin.record_password_reset(None, clinician)

    assert signin.locked_until("clinician") is None
    assert sign_in(client, "clinician", password).status_code == 302


@pytest.mark.django_db
def test_the_proxy_address_is_believed_only_behind_a_trusted_proxy(client, clinician, settings):
    client.post(
        reverse("login"),
        {"username": "clinician", "password": "x"},
        HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7",
        REMOTE_ADDR="10.0.0.2",
    )
    settings.TRUSTED_PROXY = True
    client.post(
        reverse("login"),
        {"username": "clinician", "password": "x"},
        HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7",
        REMOTE_ADDR="10.0.0.2",
    )

    ips = list(
        AuditEvent.objects.filter(action=Action.LOGIN_FAILED)
        .order_by("id")
        .values_list("ip", flat=True)
    )
    assert ips == ["10.0.0.2", "198.51.100.7"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_forty_parallel_wrong_guesses_reach_at_most_five_password_checks(
    postgres, clinician, monkeypatch
):
    checks, counting = [], threading.Lock()
    original = ModelBackend.authenticate

    def counted(self, request, username=None, password=None, **kwargs):
        with counting:
            checks.append(username)
        return original(self, request, username=username, password=password, **kwargs)

    monkeypatch.setattr(ModelBackend, "authenticate", counted)
    barrier = threading.Barrier(40)
    answers = []

    def guess(n):
        from django.test import Client

        try:
            barrier.wait()
            answers.append(sign_in(Client(), "clinician", f"wrong-{n}").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert answers == [200] * 40
    assert len(checks) <= signin.LOCKOUT_FAILURES
    assert AuditEvent.objects.filter(action=Action.LOGIN_FAILED).count() == len(checks)


@pytest.mark.django_db
def test_wrong_web_second_factor_codes_count_and_the_throttle_says_wait(login, clinician):
    from tests.accounts.test_twofactor import VERIFY, code_for, enrol

    device, _ = enrol(clinician)
    client = login(clinician)
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"

    first = client.post(VERIFY, {"code": wrong})
    assert "That code is not right" in first.content.decode()
    right_too_soon = client.post(VERIFY, {"code": code_for(device, steps_ahead=1)})

    assert "wait a minute" in right_too_soon.content.decode()
    assert "That code is not right" not in right_too_soon.content.decode()
    failures = AuditEvent.objects.filter(action=Action.LOGIN_FAILED, actor="clinician")
    assert [e.details["reason"] for e in failures] == ["otp"]
