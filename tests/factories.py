from datetime import date, timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from accounts.models import Membership, Practice, Role
from core.dates import today
from patients.models import Patient
from treatments.models import DoseChange, Drug, ScaleScore, Therapy, Trial

PASSWORD = "correct-horse-battery-9"


class PracticeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Practice

    name = factory.Sequence(lambda n: f"Practice {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def member(practice, *roles, username=None):
    """A user of `practice` holding `roles`."""
    user = UserFactory(**({"username": username} if username else {}))
    Membership.objects.create(user=user, practice=practice, roles=[Role(r).value for r in roles])
    return user


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    practice = factory.SubFactory(PracticeFactory)
    identifier = factory.Sequence(lambda n: f"MRN-{n:05d}")
    date_of_birth = date(1980, 5, 17)
    trd_evaluated_on = factory.LazyFunction(today)


def drug(name: str) -> Drug:
    return Drug.objects.get(name=name)


class TrialFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Trial

    patient = factory.SubFactory(PatientFactory)
    practice = factory.LazyAttribute(lambda t: t.patient.practice)
    drug = factory.LazyFunction(lambda: drug("sertraline"))
    start_date = factory.LazyFunction(lambda: today() - timedelta(days=120))
    end_date = factory.LazyAttribute(lambda t: t.start_date + timedelta(days=60))
    dose_mg = Decimal("100")
    adherence = "good"
    outcome = "no_response"


class DoseChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DoseChange

    trial = factory.SubFactory(TrialFactory)
    date = factory.LazyAttribute(lambda c: c.trial.start_date + timedelta(days=14))
    dose_mg = Decimal("150")


class TherapyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Therapy

    patient = factory.SubFactory(PatientFactory)
    kind = "ect"
    start_date = factory.LazyFunction(lambda: today() - timedelta(days=30))
    end_date = None
    outcome = "ongoing"
    # As Therapy.clean() leaves it: an ECT course's placement is "unknown" when not given.
    ect_placement = factory.LazyAttribute(lambda t: "unknown" if t.kind == "ect" else "")


class ScaleScoreFactory(factory.django.DjangoModelFactory):
    """A MADRS total by default; pass scale="phq9" with nine `items` (and their sum)."""

    class Meta:
        model = ScaleScore

    patient = factory.SubFactory(PatientFactory)
    scale = "madrs"
    date = factory.LazyFunction(lambda: today() - timedelta(days=7))
    items = factory.LazyFunction(list)
    total = factory.LazyAttribute(lambda s: sum(s.items) if s.items else 20)


def phq9(patient, *, item9: int, days_ago: int = 7, others: int = 1) -> ScaleScore:
    """A PHQ-9 with items 1-8 at `others` and item 9 at `item9`."""
    items = [others] * 8 + [item9]
    return ScaleScoreFactory(
        patient=patient, scale="phq9", items=items, date=today() - timedelta(days=days_ago)
    )
