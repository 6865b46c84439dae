"""No side door: the admin site signs in through the app, needs a second factor, changes nothing."""

import pytest

from accounts.models import Role
from tests.accounts.test_twofactor import VERIFY, code_for, enrol
from tests.factories import member


@pytest.fixture
def superuser(django_user_model, db):
    return django_user_model.objects.create_superuser(
        "root", "root@example.org", "x-long-password-1"
    )


@pytest.fixture
def verified_admin(client, superuser):
    device, _ = enrol(superuser)
    client.force_login(superuser)
    assert client.post(VERIFY, {"code": code_for(device, 1)}).status_code == 302
    return client


def test_the_admin_login_is_the_apps_login(client, db):
    response = client.get("/admin/", follow=True)

    assert response.request["PATH_INFO"] == "/accounts/login/"
    assert response.redirect_chain[-1][0] == "/accounts/login/?next=/admin/"
    assert client.get("/admin/login/").status_code == 302


def test_a_superuser_signs_in_with_lockout_and_audit_and_then_needs_a_second_factor(
    client, superuser
):
    from accounts import signin
    from audit.models import AuditEvent

    for _ in range(signin.LOCKOUT_FAILURES):
        client.post("/accounts/login/", {"username": "root", "password": "wrong"})
    locked = client.post("/accounts/login/", {"username": "root", "password": "x-long-password-1"})
    assert locked.status_code == 200 and signin.locked_until("root") is not None
    assert AuditEvent.objects.filter(actor="root", action="login_failed").count() == 5

    client.force_login(superuser)
    response = client.get("/admin/", follow=True)
    assert response.request["PATH_INFO"] == "/accounts/2fa/setup/"


def test_a_verified_superuser_may_look_but_not_change(verified_admin, practice, clinician):
    membership = clinician.membership
    url = f"/admin/accounts/membership/{membership.pk}/change/"

    assert verified_admin.get("/admin/").status_code == 200
    page = verified_admin.get(url)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    changed = verified_admin.post(
        url, {"practice": practice.pk, "user": clinician.pk, "roles": '["practice_admin"]'}
    )
    assert changed.status_code == 403
    membership.refresh_from_db()
    assert membership.roles == [Role.CLINICIAN]
    assert verified_admin.get("/admin/accounts/membership/add/").status_code == 403
    assert verified_admin.get("/admin/auth/user/add/").status_code == 403


def test_authenticator_secrets_are_not_in_the_admin(verified_admin):
    assert verified_admin.get("/admin/otp_totp/totpdevice/").status_code == 404
    assert verified_admin.get("/admin/otp_static/staticdevice/").status_code == 404


def test_staff_who_are_not_superusers_are_refused(client, practice):
    staff = member(practice, Role.PRACTICE_ADMIN)
    staff.is_staff = True
    staff.save()
    client.force_login(staff)

    assert client.get("/admin/", follow=True).status_code == 403
