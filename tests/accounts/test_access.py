"""Roles decide navigation and pages; practices never see each other's records."""

import pytest
from django.urls import reverse

from accounts import access
from accounts.models import Role
from tests.factories import PatientFactory, TherapyFactory, TrialFactory, member

NAV_LINKS = {
    "patients": "/patients/",
    "audit": "/audit/",
    "accounts": "/accounts/users/",
}
ALLOWED = {
    Role.CLINICIAN: {"patients"},
    Role.AUDITOR: {"patients", "audit"},
    Role.PRACTICE_ADMIN: {"audit", "accounts"},
}


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_each_role_sees_only_the_navigation_its_role_allows(role, practice, login):
    client = login(member(practice, role))
    page = client.get(reverse("home")).content.decode()
    nav = page.split('<ul class="navbar-nav')[1].split("</ul>")[0]
    for name, url in NAV_LINKS.items():
        assert (f'href="{url}"' in nav) == (name in ALLOWED[role]), name


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
@pytest.mark.parametrize("page", sorted(NAV_LINKS))
def test_each_role_may_open_only_the_pages_its_role_allows(role, page, practice, login):
    client = login(member(practice, role))
    response = client.get(NAV_LINKS[page])
    assert response.status_code == (200 if page in ALLOWED[role] else 403)


@pytest.mark.django_db
def test_a_user_with_two_roles_gets_both_sets_of_pages(practice, login):
    client = login(member(practice, Role.CLINICIAN, Role.PRACTICE_ADMIN))
    assert client.get("/patients/").status_code == 200
    assert client.get("/accounts/users/").status_code == 200


@pytest.mark.django_db
def test_the_auditor_reads_patients_but_cannot_change_them(auditor, patient, login):
    client = login(auditor)
    assert client.get(patient.get_absolute_url()).status_code == 200
    assert client.get(reverse("patients:patient-add")).status_code == 403
    assert client.get(reverse("patients:patient-edit", args=[patient.pk])).status_code == 403
    assert client.post(reverse("patients:patient-delete", args=[patient.pk])).status_code == 403
    assert client.get(reverse("treatments:trial-add", args=[patient.pk])).status_code == 403
    patient.refresh_from_db()
    assert patient.deleted_at is None


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_sign_in(client, patient):
    response = client.get(patient.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_a_user_without_a_practice_sees_no_clinical_pages(client, django_user_model):
    user = django_user_model.objects.create_user("loner", password="x-long-password-1")
    client.force_login(user)
    assert client.get("/patients/").status_code == 403
    assert "not part of any practice" in client.get("/").content.decode()


@pytest.mark.django_db
def test_a_deactivated_user_has_no_capabilities(clinician):
    clinician.is_active = False
    assert access.membership_of(clinician) is None
    assert not access.can(clinician, access.VIEW_CLINICAL)


@pytest.mark.django_db
def test_the_django_admin_is_for_superusers_only(practice, login, django_user_model):
    staff_clinician = member(practice, Role.CLINICIAN)
    staff_clinician.is_staff = True
    staff_clinician.save()
    assert login(staff_clinician).get("/admin/").status_code == 302
    superuser = django_user_model.objects.create_superuser("root", password="x-long-password-1")
    # A superuser still needs a verified second factor (tests/accounts/test_admin_site.py).
    assert (
        login(superuser).get("/admin/", follow=True).request["PATH_INFO"] == "/accounts/2fa/setup/"
    )


class TestPracticeIsolation:
    """A user of another practice can reach nothing: not in lists, not by guessed ids."""

    @pytest.fixture
    def records(self, patient):
        trial = TrialFactory(patient=patient)
        therapy = TherapyFactory(patient=patient)
        return patient, trial, therapy

    @pytest.mark.django_db
    def test_it_hides_the_patient_from_another_practices_list(self, records, outsider, login):
        PatientFactory(practice=outsider.membership.practice, identifier="MINE-1")
        page = login(outsider).get("/patients/").content.decode()
        assert "MINE-1" in page
        assert "MRN-1" not in page

    @pytest.mark.django_db
    def test_it_hides_the_patient_from_another_practices_search(self, records, outsider, login):
        page = login(outsider).post("/patients/", {"q": "MRN"}, follow=True).content.decode()
        assert "MRN-1" not in page

    @pytest.mark.django_db
    @pytest.mark.parametrize(
        "url",
        [
            "patients:patient-detail",
            "patients:patient-edit",
            "patients:patient-delete",
            "treatments:trial-add",
            "treatments:therapy-add",
        ],
    )
    def test_guessed_patient_urls_are_404(self, records, outsider, login, url):
        patient, _, _ = records
        client = login(outsider)
        assert client.get(reverse(url, args=[patient.pk])).status_code == 404
        assert client.post(reverse(url, args=[patient.pk]), {}).status_code == 404

    @pytest.mark.django_db
    @pytest.mark.parametrize(
        "url,index",
        [
            ("treatments:trial-edit", 1),
            ("treatments:trial-delete", 1),
            ("treatments:therapy-edit", 2),
            ("treatments:therapy-delete", 2),
        ],
    )
    def test_guessed_record_urls_are_404_and_change_nothing(
        self, records, outsider, login, url, index
    ):
        patient, *_ = records
        record = records[index]
        client = login(outsider)
        assert client.get(reverse(url, args=[patient.pk, record.pk])).status_code == 404
        assert client.post(reverse(url, args=[patient.pk, record.pk]), {}).status_code == 404
        record.refresh_from_db()
        assert record.deleted_at is None

    @pytest.mark.django_db
    def test_a_record_of_one_patient_is_not_reachable_through_another(
        self, records, clinician, login, practice
    ):
        _, trial, _ = records
        other_patient = PatientFactory(practice=practice)
        url = reverse("treatments:trial-edit", args=[other_patient.pk, trial.pk])
        assert login(clinician).get(url).status_code == 404

    @pytest.mark.django_db
    def test_it_hides_the_other_practices_audit_events(self, records, outsider, auditor, login):
        patient, _, _ = records
        login(auditor).get(patient.get_absolute_url())
        member_of_other = member(outsider.membership.practice, Role.AUDITOR)
        page = login(member_of_other).get("/audit/").content.decode()
        assert "auditor" not in page
        assert "No events." in page

    @pytest.mark.django_db
    def test_it_hides_the_other_practices_accounts(self, practice_admin, outsider, login):
        page = login(practice_admin).get("/accounts/users/").content.decode()
        assert "admin" in page
        assert "outsider" not in page

    @pytest.mark.django_db
    def test_an_absurdly_large_id_is_404_not_an_error(self, outsider, login):
        assert login(outsider).get("/patients/99999999999999999999/").status_code == 404


@pytest.mark.django_db
def test_error_pages_leak_nothing(client, settings, clinician):
    settings.DEBUG = False
    client.force_login(clinician)
    response = client.get("/patients/424242/")
    body = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in body
    assert "Traceback" not in body and "patients.models" not in body
