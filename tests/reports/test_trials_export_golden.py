"""The trials export, byte for byte, for a fixed practice on a fixed day.

The golden files under golden/ were written by the export as it was before it was rewritten for
speed (one streamed join instead of a dose-change lookup per chunk); any change to what the
export writes shows here as a difference. To rewrite them after a deliberate change of the
export's content: `TRD_WRITE_GOLDEN=1 pytest tests/reports/test_trials_export_golden.py`.
"""

import csv
import io
import os
import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from reports import exporters, selection
from reports.cells import csv_cell
from reports.models import ExportJob, ExportKind
from tests.factories import DoseChangeFactory, PatientFactory, TrialFactory, drug
from treatments.services import refresh_trd_summaries

GOLDEN = Path(__file__).parent / "golden"
WRITE_GOLDEN = os.environ.get("TRD_WRITE_GOLDEN") == "1"
FIXED_TODAY = date(2025, 6, 30)
SECRET = "0123456789abcdef" * 4

CASES = {
    "all": {},
    "deidentified": {"deidentify": True},
    "ssri": {"drug_class": "SSRI"},
    "window": {"since": "2024-01-01", "until": "2025-01-31"},
    "meets": {"trd_status": "meets"},
    "not_met": {"trd_status": "not_met"},
}


def ago(days: int) -> date:
    return FIXED_TODAY - timedelta(days=days)


@pytest.fixture
def frozen_today(monkeypatch):
    """`today()` everywhere (it reads timezone.localdate()) is FIXED_TODAY."""
    real = timezone.localdate

    def localdate(value=None, timezone=None):
        return FIXED_TODAY if value is None else real(value, timezone)

    monkeypatch.setattr("django.utils.timezone.localdate", localdate)
    return FIXED_TODAY


def trial(patient, name, start, end, dose, changes=(), **fields):
    made = TrialFactory(
        patient=patient,
        drug=drug(name),
        start_date=start,
        end_date=end,
        dose_mg=Decimal(dose),
        **fields,
    )
    for day, changed in changes:
        DoseChangeFactory(trial=made, date=day, dose_mg=Decimal(changed))
    return made


def build_practice(practice, other_practice) -> list:
    """About thirty patients whose trials cover what the export and the rule distinguish."""

    def patient(identifier, born, episode_start=None):
        return PatientFactory(
            practice=practice,
            identifier=identifier,
            date_of_birth=born,
            episode_start=episode_start,
        )

    people = []
    # Meets TRD: two failed adequate trials of different drugs, the second after a titration.
    p = patient("P-01", date(1971, 2, 3), episode_start=ago(900))
    trial(p, "sertraline", ago(800), ago(700), "100")
    trial(
        p, "venlafaxine", ago(650), ago(540), "75", [(ago(636), "225")], outcome="partial_response"
    )
    people.append(p)
    # A change before the start (ignored) and one on the start date (replaces the dose).
    p = patient("P-02", date(1985, 12, 31))
    trial(p, "citalopram", ago(300), ago(200), "10", [(ago(310), "40"), (ago(300), "20")])
    trial(p, "escitalopram", ago(190), ago(100), "5", [(ago(190), "10"), (ago(150), "5")])
    people.append(p)
    # Several changes: down, up, below then above the adequate dose; the highest reported.
    p = patient("P-03", date(1960, 7, 1), episode_start=ago(2000))
    trial(
        p,
        "imipramine",
        ago(500),
        ago(300),
        "50",
        [(ago(490), "100"), (ago(470), "150"), (ago(420), "75"), (ago(400), "200")],
    )
    trial(p, "nortriptyline", ago(290), ago(200), "75", [(ago(280), "25")], outcome="intolerance")
    people.append(p)
    # Ongoing: no end date, an end after the as-of date, and one ended the day before.
    p = patient("P-04", date(1990, 1, 15))
    trial(p, "mirtazapine", ago(400), ago(1), "15", outcome="no_response")
    trial(p, "duloxetine", ago(60), None, "60", outcome="ongoing")
    trial(p, "vortioxetine", ago(30), FIXED_TODAY + timedelta(days=20), "10", outcome="ongoing")
    people.append(p)
    # Formulations: oral selegiline is not an antidepressant; the patch and the weekly
    # fluoxetine capsule have their own minimum adequate doses.
    p = patient("P-05", date(1955, 5, 5), episode_start=ago(1200))
    trial(p, "selegiline", ago(1000), ago(900), "10", formulation="oral")
    trial(p, "selegiline", ago(880), ago(800), "6", formulation="transdermal")
    trial(p, "fluoxetine", ago(780), ago(700), "90", formulation="weekly")
    trial(
        p, "fluoxetine", ago(690), ago(600), "60", formulation="weekly", outcome="partial_response"
    )
    people.append(p)
    p = patient("P-06", date(1977, 8, 19))
    trial(p, "paroxetine", ago(300), ago(200), "25", formulation="cr")
    trial(p, "paroxetine", ago(190), ago(100), "20", [(ago(150), "37.5")])
    people.append(p)
    # Not antidepressants: an augmentation agent, neither, and one without a minimum dose.
    p = patient("P-07", date(1982, 3, 30))
    trial(p, "lithium", ago(400), ago(200), "800")
    trial(p, "carbamazepine", ago(390), ago(250), "400")
    trial(p, "buspirone", ago(380), None, "30", outcome="ongoing")
    trial(p, "liothyronine", ago(370), ago(300), "0.025", [(ago(350), "0.05")])
    trial(p, "quetiapine", ago(360), ago(280), "150", outcome="response")
    people.append(p)
    # Poor and partial adherence.
    p = patient("P-08", date(1999, 9, 9))
    trial(p, "sertraline", ago(500), ago(400), "150", adherence="poor")
    trial(p, "bupropion", ago(390), ago(300), "300", adherence="partial")
    trial(p, "trazodone", ago(290), ago(200), "300", adherence="unknown", outcome="unknown")
    people.append(p)
    # The episode began mid-history: a trial ending on its first day, one straddling it.
    p = patient("P-09", date(1968, 4, 22), episode_start=ago(300))
    trial(p, "citalopram", ago(450), ago(300), "20")
    trial(p, "venlafaxine", ago(330), ago(250), "150")
    trial(p, "agomelatine", ago(240), ago(150), "25")
    trial(p, "escitalopram", ago(140), ago(60), "20", [(ago(120), "10")])
    people.append(p)
    # A removed trial is left out; so is a removed patient.
    p = patient("P-10", date(1988, 11, 11))
    trial(p, "fluvoxamine", ago(200), ago(100), "100")
    trial(p, "sertraline", ago(300), ago(250), "100", deleted_at=timezone.now())
    people.append(p)
    removed = patient("P-11", date(1975, 6, 6))
    trial(removed, "sertraline", ago(300), ago(200), "100")
    removed.deleted_at = timezone.now()
    removed.save(update_fields=["deleted_at"])
    # Two trials starting the same day: ordered as recorded.
    p = patient("P-12", date(1993, 2, 28))
    trial(p, "lithium", ago(200), ago(100), "600")
    trial(p, "venlafaxine", ago(200), ago(100), "225", [(ago(200), "300")])
    people.append(p)
    # A record number that a spreadsheet would read as a formula.
    p = patient("=CALC-1", date(1980, 1, 1))
    trial(p, "moclobemide", ago(200), ago(120), "450", outcome="remission")
    people.append(p)
    # Outcomes of every kind on adequate trials.
    p = patient("P-14", date(1964, 10, 10), episode_start=ago(1500))
    for index, outcome in enumerate(
        ["response", "remission", "intolerance", "unknown", "no_response", "partial_response"]
    ):
        trial(
            p,
            ["citalopram", "sertraline", "duloxetine", "mirtazapine", "bupropion", "vortioxetine"][
                index
            ],
            ago(1400 - 200 * index),
            ago(1300 - 200 * index),
            ["20", "100", "60", "30", "300", "15"][index],
            outcome=outcome,
        )
    people.append(p)
    # A patient of another practice is never exported.
    stranger = PatientFactory(
        practice=other_practice, identifier="P-15", date_of_birth=date(1970, 1, 1)
    )
    trial(stranger, "sertraline", ago(300), ago(200), "100")

    # The rest: a seeded mix.
    rng = random.Random(2025)
    names = [
        "citalopram",
        "sertraline",
        "venlafaxine",
        "duloxetine",
        "mirtazapine",
        "bupropion",
        "amitriptyline",
        "phenelzine",
        "aripiprazole",
        "lithium",
        "vortioxetine",
        "trazodone",
    ]
    outcomes = [
        "no_response",
        "no_response",
        "partial_response",
        "response",
        "remission",
        "intolerance",
        "unknown",
    ]
    adherence = ["good", "good", "good", "partial", "poor", "unknown"]
    for number in range(16, 33):
        p = patient(
            f"P-{number:02d}",
            date(1940 + rng.randrange(60), rng.randrange(1, 13), rng.randrange(1, 29)),
            episode_start=ago(rng.randrange(100, 1500)) if rng.random() < 0.5 else None,
        )
        start = ago(rng.randrange(900, 1600))
        for _ in range(rng.randrange(1, 6)):
            name = rng.choice(names)
            minimum = drug(name).min_adequate_dose_mg
            dose = minimum * Decimal(rng.choice(["0.5", "1", "1.5"]))
            length = rng.randrange(10, 160)
            ongoing = rng.random() < 0.15
            end = None if ongoing else min(start + timedelta(days=length), FIXED_TODAY)
            changes = []
            day = start
            for _ in range(rng.randrange(0, 4)):
                day += timedelta(days=rng.randrange(0, 30))
                if all(day != seen for seen, _ in changes):
                    changes.append((day, str(minimum * Decimal(rng.choice(["0.5", "1", "2"])))))
            trial(
                p,
                name,
                start,
                end,
                str(dose),
                changes,
                adherence=rng.choice(adherence),
                outcome="ongoing" if ongoing else rng.choice(outcomes),
            )
            start = (end or FIXED_TODAY) + timedelta(days=rng.randrange(-20, 40))
            if start >= FIXED_TODAY:
                break
        people.append(p)
    refresh_trd_summaries(people + [removed, stranger])
    return people


@pytest.fixture
def practice_history(frozen_today, practice, other_practice):
    build_practice(practice, other_practice)
    return practice


def export(practice, kind, options, path, progress=lambda done, total: None) -> ExportJob:
    job = ExportJob(practice=practice, kind=kind, options=options, secret=SECRET)
    job.patients_included = set()
    writer, _ = exporters.WRITERS[kind]
    writer(job, path, progress)
    return job


def with_stable_pseudonyms(data: bytes, job, practice) -> bytes:
    """Pseudonyms key on the patient's id, which differs between databases and runs: each is
    replaced by a label naming its record number, so the golden file is the same everywhere."""
    from patients.models import Patient

    identity = exporters.Identity(job)
    for pk, identifier in Patient.objects.filter(practice=practice).values_list("pk", "identifier"):
        data = data.replace(identity.pseudonym(pk).encode(), f"pseudonym<{identifier}>".encode())
    return data


def golden_bytes(case: str, data: bytes) -> bytes:
    path = GOLDEN / f"trials_{case}.csv"
    if WRITE_GOLDEN:
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(data)
    return path.read_bytes()


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_trials_csv_is_byte_identical_to_its_golden_file(practice_history, tmp_path, case):
    path = tmp_path / "trials.csv"
    job = export(practice_history, ExportKind.TRIALS_CSV, CASES[case], path)
    data = path.read_bytes()
    if CASES[case].get("deidentify"):
        assert b"P-0" not in data
        data = with_stable_pseudonyms(data, job, practice_history)
    assert data == golden_bytes(case, data)


def xlsx_as_csv_rows(path) -> list[list[str]]:
    """The sheet's cells written as the CSV writes them (dates read back as datetimes)."""
    book = load_workbook(path, read_only=True)
    rows = []
    for row in book.worksheets[0].iter_rows(values_only=True):
        rows.append(
            [
                value.date().isoformat()
                if isinstance(value, datetime)
                else csv_cell(Decimal(str(value)) if isinstance(value, float) else value)
                for value in row
            ]
        )
    return rows


@pytest.mark.parametrize("case", ["all", "ssri", "meets"])
def test_the_trials_xlsx_holds_the_golden_rows(practice_history, tmp_path, case):
    path = tmp_path / "trials.xlsx"
    export(practice_history, ExportKind.TRIALS_XLSX, CASES[case], path)
    golden = (GOLDEN / f"trials_{case}.csv").read_text(encoding="utf-8")
    assert xlsx_as_csv_rows(path) == list(csv.reader(io.StringIO(golden)))


def test_progress_is_reported_every_chunk_and_at_the_end(practice_history, tmp_path, monkeypatch):
    monkeypatch.setattr(selection, "CHUNK_SIZE", 10)
    calls = []
    export(
        practice_history,
        ExportKind.TRIALS_CSV,
        {},
        tmp_path / "trials.csv",
        lambda done, total: calls.append((done, total)),
    )
    total = len((GOLDEN / "trials_all.csv").read_text(encoding="utf-8").splitlines()) - 1
    assert total > 50
    assert calls == [(done, total) for done in range(10, total + 1, 10)] + [(total, total)]


def test_dose_changes_come_in_the_one_streamed_query_whatever_the_chunks(
    practice_history, tmp_path, monkeypatch
):
    counts = []
    for size in (10, 5000):
        monkeypatch.setattr(selection, "CHUNK_SIZE", size)
        with CaptureQueriesContext(connection) as queries:
            export(practice_history, ExportKind.TRIALS_CSV, {}, tmp_path / "trials.csv")
        reading_dose_changes = [q["sql"] for q in queries if "treatments_dosechange" in q["sql"]]
        assert len(reading_dose_changes) == 1
        assert 'LEFT OUTER JOIN "treatments_dosechange"' in reading_dose_changes[0]
        counts.append(len(queries))
    assert counts[0] == counts[1]
