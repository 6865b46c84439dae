import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command

from accounts.models import Membership, Practice, Role
from audit.models import AuditEvent
from core.dates import today
from patients.models import Patient
from treatments.models import DoseChange, Therapy, Trial

PASSWORD = "demo-password-for-tests"


def counts():
    return {
        model.__name__: model.objects.count()
        for model in (Practice, Membership, Patient, Trial, DoseChange, Therapy, get_user_model())
    }


@pytest.mark.django_db
def test_seed_demo_creates_the_practices_users_and_roles():
    call_command("seed_demo", password=PASSWORD)
    demo = Practice.objects.get(name="Demo Practice")
    second = Practice.objects.get(name="Second Practice")
    roles = {m.user.username: (m.practice, m.roles) for m in Membership.objects.all()}
    assert roles == {
        "demo-clinician": (demo, [Role.CLINICIAN]),
        "demo-admin": (demo, [Role.PRACTICE_ADMIN]),
        "demo-auditor": (demo, [Role.AUDITOR]),
        "second-clinician": (second, [Role.CLINICIAN]),
    }
    for username in roles:
        assert authenticate(username=username, password=PASSWORD) is not None


@pytest.mark.django_db
def test_seed_demo_twice_leaves_the_same_data():
    call_command("seed_demo", password=PASSWORD)
    first = counts()
    call_command("seed_demo", password=PASSWORD)
    assert counts() == first


@pytest.mark.django_db
def test_seed_demo_prints_a_generated_password_that_works(capsys):
    call_command("seed_demo")
    output = capsys.readouterr().out
    line = next(line for line in output.splitlines() if "demo-clinician" in line)
    password = line.split()[-1]
    assert len(password) >= 12
    assert authenticate(username="demo-clinician", password=password) is not None


@pytest.mark.django_db
def test_seed_demo_rejects_a_weak_password():
    with pytest.raises(CommandError, match="Password rejected"):
        call_command("seed_demo", password="123")


@pytest.mark.django_db
def test_demo_patients_show_every_case():
    call_command("seed_demo", password=PASSWORD)
    demo = Patient.objects.filter(practice__name="Demo Practice")
    assert demo.count() >= 10
    assert demo.meeting_trd(today()).exists()
    assert demo.with_no_failed_trial(today()).filter(trials__isnull=False).exists()
    assert Trial.objects.filter(patient__in=demo, end_date__isnull=True).exists()
    assert Therapy.objects.filter(patient__in=demo).exists()
    assert Trial.objects.filter(patient__in=demo, adherence="poor").exists()
    previous_episode = demo.get(identifier="DEMO-005")
    assert previous_episode.trials.filter(end_date__lt=previous_episode.episode_start).count() >= 2
    assert not previous_episode.trd_meets
    assert AuditEvent.objects.filter(actor="seed_demo", action="create").exists()


@pytest.mark.django_db
def test_demo_patients_are_visibly_synthetic():
    call_command("seed_demo", password=PASSWORD)
    for patient in Patient.objects.all():
        assert patient.identifier.startswith(("DEMO-", "SEC-"))
        assert patient.notes.startswith("Synthetic")
