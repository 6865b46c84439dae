"""A full patient record for the layout and accessibility browser tests.

Trials (one with a dose change, two of one class overlapping so the page warns, one with the
longest drug name), reasons stopped and notes, therapies, rating-scale scores and a PHQ-9 with
item 9 above 0 (the suicide-risk banner), so every part of the patient page is on screen.
With ``long=True`` the free text is as long as a clinician may type it, and the record number
is 64 characters without a space.
"""

from datetime import timedelta
from decimal import Decimal

from core.dates import today

from ..factories import (
    DoseChangeFactory,
    PatientFactory,
    ScaleScoreFactory,
    TherapyFactory,
    TrialFactory,
    drug,
    phq9,
)

LONG_IDENTIFIER = "MRN-" + "0123456789" * 6
LONG_NOTE = (
    "Stopped after discussion with the patient: nausea in the first two weeks, then "
    "sleep disturbance; asked to revisit if a switch is considered. "
    "Pharmacy-reference-number-ABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789 for the dispensing record."
)


def full_record(practice, *, identifier="REC-001", long=False):
    note = LONG_NOTE if long else "Tolerated well."
    patient = PatientFactory(
        practice=practice,
        identifier=LONG_IDENTIFIER if long else identifier,
        episode_start=today() - timedelta(days=400),
    )
    start = today() - timedelta(days=360)
    sertraline = TrialFactory(
        patient=patient,
        drug=drug("sertraline"),
        start_date=start,
        end_date=start + timedelta(days=70),
        dose_mg=Decimal("100"),
        reason_stopped="No response after ten weeks" + (" at the full dose" * 8 if long else ""),
        notes=note,
    )
    DoseChangeFactory(trial=sertraline, date=start + timedelta(days=14), dose_mg=Decimal("150"))
    TrialFactory(  # overlaps sertraline: two SSRIs at once, which the page warns about
        patient=patient,
        drug=drug("fluoxetine"),
        start_date=start + timedelta(days=60),
        end_date=start + timedelta(days=150),
        dose_mg=Decimal("40"),
        notes=note,
    )
    TrialFactory(
        patient=patient,
        drug=drug("venlafaxine"),
        start_date=start + timedelta(days=160),
        end_date=start + timedelta(days=250),
        dose_mg=Decimal("225"),
        outcome="partial_response",
        reason_stopped="Partial response only",
    )
    TrialFactory(
        patient=patient,
        drug=drug("lithium"),
        start_date=start + timedelta(days=200),
        end_date=None,
        dose_mg=Decimal("800"),
        outcome="ongoing",
    )
    TrialFactory(
        patient=patient,
        drug=drug("estrogen-containing contraceptive"),
        start_date=start + timedelta(days=30),
        end_date=None,
        dose_mg=Decimal("1"),
        outcome="ongoing",
        notes=note,
    )
    TherapyFactory(
        patient=patient,
        kind="psychotherapy",
        detail="CBT" + (", then interpersonal-psychotherapy-group-sessions-weekly" if long else ""),
        start_date=start,
        end_date=start + timedelta(days=120),
        outcome="partial_response",
        notes=note,
    )
    TherapyFactory(
        patient=patient,
        kind="ect",
        start_date=today() - timedelta(days=40),
        end_date=None,
        outcome="ongoing",
    )
    ScaleScoreFactory(patient=patient, scale="hamd17", total=24, date=start - timedelta(days=3))
    ScaleScoreFactory(patient=patient, scale="hamd17", total=20, date=start + timedelta(days=68))
    ScaleScoreFactory(patient=patient, scale="madrs", total=30, date=today() - timedelta(days=30))
    phq9(patient, item9=1, days_ago=5)
    return patient
