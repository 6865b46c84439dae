"""Synthetic demo data: two practices, their users, and made-up patients showing every case.

Nothing here is real patient data. Dates are relative to today so the demo stays meaningful.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction

from accounts.access import PracticeScope
from accounts.models import Membership, Practice, Role
from core.dates import today
from patients.episodes import episode_create
from patients.models import Episode, Patient
from patients.scope import PatientScope
from patients.services import patient_create
from treatments.models import Drug, ScaleScore, Therapy, Trial
from treatments.services import score_create, therapy_create, trial_create

DEMO_PRACTICE = "Demo Practice"
SECOND_PRACTICE = "Second Practice"
DEMO_USERS = [
    ("demo-clinician", DEMO_PRACTICE, [Role.CLINICIAN]),
    ("demo-admin", DEMO_PRACTICE, [Role.PRACTICE_ADMIN]),
    ("demo-auditor", DEMO_PRACTICE, [Role.AUDITOR]),
    ("second-clinician", SECOND_PRACTICE, [Role.CLINICIAN]),
]
SEED_ACTOR = "seed_demo"


@dataclass
class DemoTrial:
    drug: str
    start_weeks_ago: int
    weeks: int | None  # None: ongoing
    dose: str
    outcome: str
    adherence: str = "good"
    changes: list[tuple[int, str]] = field(default_factory=list)  # (week of trial, new dose)
    reason_stopped: str = ""


@dataclass
class DemoTherapy:
    kind: str
    start_weeks_ago: int
    weeks: int | None
    outcome: str
    detail: str = ""


@dataclass
class DemoScore:
    scale: str
    weeks_ago: int
    total: int | None = None  # PHQ-9: the sum of `items`
    items: list[int] = field(default_factory=list)


def demo_phq9(weeks_ago: int, items: list[int]) -> DemoScore:
    return DemoScore("phq9", weeks_ago, items=items)


@dataclass
class DemoPatient:
    identifier: str
    born: int
    episode_weeks_ago: int | None
    notes: str
    trials: list[DemoTrial] = field(default_factory=list)
    therapies: list[DemoTherapy] = field(default_factory=list)
    scores: list[DemoScore] = field(default_factory=list)
    diagnosis: str = "mdd_recurrent"
    past_episodes: list[tuple[int, int]] = field(default_factory=list)  # (onset, end) weeks ago


DEMO_PATIENTS = [
    DemoPatient(
        "DEMO-001",
        1979,
        80,
        "Synthetic: meets TRD after two adequate failed trials; "
        "the HAM-D-17 scores show the non-response and the partial response.",
        [
            DemoTrial("sertraline", 70, 10, "100", "no_response", reason_stopped="no improvement"),
            DemoTrial(
                "venlafaxine",
                56,
                14,
                "75",
                "partial_response",
                changes=[(2, "150"), (6, "225")],
                reason_stopped="partial response only",
            ),
            DemoTrial("lithium", 36, None, "600", "ongoing", changes=[(2, "900")]),
        ],
        scores=[
            DemoScore("hamd17", 71, 24),
            DemoScore("hamd17", 64, 23),
            DemoScore("hamd17", 61, 22),
            DemoScore("hamd17", 56, 22),
            DemoScore("hamd17", 48, 17),
            DemoScore("hamd17", 43, 15),
            DemoScore("hamd17", 36, 16),
            DemoScore("hamd17", 20, 13),
            DemoScore("hamd17", 4, 12),
        ],
    ),
    DemoPatient(
        "DEMO-002",
        1990,
        40,
        "Synthetic: possible pseudo-resistance (doses too low).",
        [
            DemoTrial("sertraline", 36, 9, "25", "no_response"),
            DemoTrial("citalopram", 24, 10, "10", "no_response", changes=[(6, "20")]),
        ],
    ),
    DemoPatient(
        "DEMO-003",
        1985,
        60,
        "Synthetic: one trial not taken as prescribed; the "
        "PHQ-9 scores of the duloxetine trial disagree with its recorded outcome.",
        [
            DemoTrial("escitalopram", 55, 10, "10", "no_response", adherence="poor"),
            DemoTrial("duloxetine", 40, 8, "60", "no_response"),
        ],
        scores=[
            demo_phq9(41, [2, 2, 2, 2, 2, 2, 2, 2, 0]),  # 16
            demo_phq9(36, [2, 2, 1, 2, 1, 1, 1, 1, 0]),  # 11
            demo_phq9(33, [1, 1, 1, 1, 1, 1, 1, 0, 0]),  # 7: 56 % lower, a response
        ],
    ),
    DemoPatient(
        "DEMO-004",
        1972,
        30,
        "Synthetic: an ongoing trial still too short to judge.",
        [
            DemoTrial("mirtazapine", 28, 9, "30", "no_response"),
            DemoTrial("fluoxetine", 3, None, "20", "ongoing"),
        ],
    ),
    DemoPatient(
        "DEMO-005",
        1968,
        20,
        "Synthetic: two episodes; the failed trials belong to the previous one; lamotrigine with the pill.",
        past_episodes=[(210, 120)],
        trials=[
            DemoTrial("paroxetine", 200, 10, "30", "no_response"),
            DemoTrial("nortriptyline", 150, 12, "100", "no_response"),
            DemoTrial("bupropion", 12, None, "300", "ongoing"),
            DemoTrial("estrogen-containing contraceptive", 30, None, "1", "ongoing"),
            DemoTrial("lamotrigine", 10, None, "100", "ongoing"),
        ],
    ),
    DemoPatient(
        "DEMO-006",
        1982,
        120,
        "Synthetic: TRD with ECT, TMS and psychotherapy tried.",
        [
            DemoTrial("escitalopram", 110, 12, "20", "no_response"),
            DemoTrial("duloxetine", 90, 12, "60", "partial_response", changes=[(4, "90")]),
            DemoTrial("aripiprazole", 76, 10, "5", "no_response"),
        ],
        [
            DemoTherapy("psychotherapy", 100, 16, "partial_response", "CBT"),
            DemoTherapy("tms", 60, 6, "no_response"),
            DemoTherapy("ect", 40, 4, "partial_response"),
        ],
    ),
    DemoPatient(
        "DEMO-007",
        1995,
        20,
        "Synthetic: responded to the first antidepressant.",
        [
            DemoTrial("sertraline", 18, 12, "100", "response", changes=[(2, "150")]),
        ],
        scores=[
            DemoScore("madrs", 18, 32),
            DemoScore("madrs", 14, 26),
            DemoScore("madrs", 10, 17),
            DemoScore("madrs", 7, 13),  # 59 % lower: a response, as recorded
        ],
    ),
    DemoPatient(
        "DEMO-008",
        1977,
        50,
        "Synthetic: same drug tried twice (counts once); MAOI started too soon.",
        [
            DemoTrial("sertraline", 48, 8, "100", "no_response"),
            DemoTrial("sertraline", 30, 10, "150", "no_response"),
            DemoTrial("phenelzine", 19, 3, "45", "intolerance", reason_stopped="dizziness"),
        ],
    ),
    DemoPatient(
        "DEMO-009",
        1988,
        45,
        "Synthetic: titration crossed the adequate dose too late; "
        "the latest PHQ-9 reports thoughts of self-harm (item 9).",
        [
            DemoTrial("venlafaxine", 40, 9, "75", "no_response", changes=[(5, "150")]),
            DemoTrial("vortioxetine", 25, 3, "10", "intolerance", reason_stopped="nausea"),
        ],
        [
            DemoTherapy("esketamine", 8, None, "ongoing"),
        ],
        scores=[
            demo_phq9(26, [2, 2, 2, 2, 1, 2, 2, 1, 0]),  # 14
            demo_phq9(9, [3, 3, 2, 2, 2, 2, 2, 1, 1]),  # 18, item 9 = 1
            demo_phq9(1, [3, 3, 2, 3, 2, 3, 2, 1, 2]),  # 21, item 9 = 2
        ],
    ),
    DemoPatient(
        "DEMO-010",
        2001,
        None,
        "Synthetic: newly referred, no treatment recorded yet.",
        diagnosis="unknown",
    ),
    DemoPatient(
        "DEMO-011",
        1986,
        40,
        "Synthetic: bipolar depression; two antidepressants "
        "failed, but the TRD definition does not apply.",
        [
            DemoTrial("sertraline", 38, 8, "100", "no_response"),
            DemoTrial("escitalopram", 26, 8, "20", "no_response"),
            DemoTrial("lithium", 14, None, "900", "ongoing"),
        ],
        diagnosis="bipolar_depression",
    ),
]

SECOND_PATIENTS = [
    DemoPatient(
        "SEC-001",
        1980,
        30,
        "Synthetic: belongs to Second Practice.",
        [
            DemoTrial("citalopram", 28, 8, "20", "no_response"),
            DemoTrial("mirtazapine", 18, 8, "30", "no_response"),
        ],
    ),
    DemoPatient("SEC-002", 1993, None, "Synthetic: belongs to Second Practice."),
]


def seed_users(password: str) -> list[str]:
    User = get_user_model()
    names = []
    for username, practice_name, roles in DEMO_USERS:
        practice, _ = Practice.objects.get_or_create(name=practice_name)
        user, _ = User.objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.org"}
        )
        user.set_password(password)
        user.is_active = True
        user.save()
        Membership.objects.update_or_create(
            user=user, defaults={"practice": practice, "roles": [r.value for r in roles]}
        )
        names.append(username)
    return names


def _weeks_ago(weeks: int) -> date:
    return today() - timedelta(weeks=weeks)


def seed_patient(practice: Practice, spec: DemoPatient) -> bool:
    """Create the patient and their history unless they already exist. True if created."""
    if Patient.objects.active().filter(practice=practice, identifier=spec.identifier).exists():
        return False
    patient = patient_create(
        scope=PracticeScope(SEED_ACTOR, practice),
        patient=Patient(
            identifier=spec.identifier,
            date_of_birth=date(spec.born, 6, 15),
            notes=spec.notes,
            diagnosis=spec.diagnosis,
        ),
    )
    scope = PatientScope.trusted(SEED_ACTOR, patient)
    for onset, ended in spec.past_episodes:
        episode_create(
            scope=scope, episode=Episode(onset=_weeks_ago(onset), ended=_weeks_ago(ended))
        )
    if spec.episode_weeks_ago:
        episode_create(scope=scope, episode=Episode(onset=_weeks_ago(spec.episode_weeks_ago)))
    for item in spec.trials:
        start = _weeks_ago(item.start_weeks_ago)
        trial_create(
            scope=scope,
            trial=Trial(
                drug=Drug.objects.get(name=item.drug),
                start_date=start,
                end_date=start + timedelta(weeks=item.weeks) if item.weeks else None,
                dose_mg=Decimal(item.dose),
                adherence=item.adherence,
                outcome=item.outcome,
                reason_stopped=item.reason_stopped,
            ),
            dose_changes=[(start + timedelta(weeks=w), Decimal(d)) for w, d in item.changes],
        )
    for item in spec.scores:
        score_create(
            scope=scope,
            score=ScaleScore(
                scale=item.scale,
                date=_weeks_ago(item.weeks_ago),
                total=item.total,
                items=item.items,
            ),
        )
    for item in spec.therapies:
        start = _weeks_ago(item.start_weeks_ago)
        therapy_create(
            scope=scope,
            therapy=Therapy(
                kind=item.kind,
                detail=item.detail,
                start_date=start,
                end_date=start + timedelta(weeks=item.weeks) if item.weeks else None,
                outcome=item.outcome,
            ),
        )
    return True


@transaction.atomic
def seed_demo(password: str) -> dict:
    users = seed_users(password)
    created = 0
    for practice_name, specs in (
        (DEMO_PRACTICE, DEMO_PATIENTS),
        (SECOND_PRACTICE, SECOND_PATIENTS),
    ):
        practice = Practice.objects.get(name=practice_name)
        created += sum(seed_patient(practice, spec) for spec in specs)
    return {"users": users, "patients_created": created}
