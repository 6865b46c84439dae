"""Benchmark (not a test): trial export throughput and memory, and page latency, on PostgreSQL.

    DATABASE_URL=postgres://user@host:5432/db python bench/run.py      (or `make bench`)

It creates a scratch database `trd_bench_<pid>` on the server of DATABASE_URL, migrates
it, fills synthetic practices with bulk_create (no audit events), measures, prints one
JSON object on stdout and drops the scratch database, whatever happens. Progress goes to
stderr.

- Export: the `trials_csv` writer of the exports service (reports.exporters) when it is
  there, else our own pipeline (same queryset shape, `.iterator(chunk_size=2000)`, the TRD
  rule per trial), labelled as such. Each export runs in a fresh subprocess writing a real
  file; memory is that subprocess's peak resident set size (VmHWM from /proc/self/status;
  getrusage's ru_maxrss survives fork+exec and would report the parent's), reported with
  its baseline after Django's setup.
- COPY: PostgreSQL's `COPY (SELECT ...) TO STDOUT WITH CSV` of the same trials (the
  stored columns; it cannot apply the TRD rule) into a file, best of three.
- Latency: median over BENCH_REQUESTS requests of the Django test client, signed in as a
  clinician, for the patient list, a patient page and the dashboard (cold cache).

Sizes: BENCH_SIZES (trials per export, default "10000,100000"; patients = trials / 10) and
BENCH_PATIENTS (practices for page latency, default "10,10000").
"""

import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trdtracker.settings")
# WhiteNoise looks for collected static files, which only production builds have.
warnings.filterwarnings("ignore", "No directory at", UserWarning)

TRIALS_PER_PATIENT = 10
CHUNK_SIZE = 2000
SEED = 20250101


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def env_sizes(name: str, default: str) -> list[int]:
    return sorted({int(part) for part in os.environ.get(name, default).split(",") if part.strip()})


def require_postgres(url: str) -> None:
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit(
            "bench: needs PostgreSQL. Set DATABASE_URL=postgres://user@host:5432/db (a role "
            "that may CREATE DATABASE; the bench works in a scratch database it drops)."
        )


# --- the scratch database ------------------------------------------------------------------

def admin_connection(url: str):
    import psycopg2

    connection = psycopg2.connect(url)
    connection.autocommit = True
    return connection


def with_database(url: str, name: str) -> str:
    return urlsplit(url)._replace(path=f"/{name}").geturl()


# --- synthetic data --------------------------------------------------------------------------

def build_practice(patients: int, label: str) -> dict:
    """A practice with `patients` patients x TRIALS_PER_PATIENT trials, and a clinician."""
    from django.contrib.auth import get_user_model

    from accounts.models import Membership, Practice, Role
    from patients.models import Patient
    from trdtracker.validators import today
    from treatments.models import DoseChange, Drug, Trial
    from treatments.services import refresh_trd_summaries

    rng = random.Random(f"{SEED}-{patients}")
    practice = Practice.objects.create(name=f"Bench {label}")
    user = get_user_model().objects.create_user(username=f"bench-{label}", password=None)
    Membership.objects.create(user=user, practice=practice, roles=[Role.CLINICIAN.value])

    now = today()
    people = Patient.objects.bulk_create(
        [
            Patient(
                practice=practice,
                identifier=f"B{n:06d}",
                date_of_birth=date(1940 + rng.randrange(60), rng.randrange(1, 13), 1),
                episode_start=now - timedelta(days=rng.randrange(400, 2500))
                if rng.random() < 0.5 else None,
            )
            for n in range(patients)
        ],
        batch_size=CHUNK_SIZE,
    )
    drugs = list(Drug.objects.filter(min_adequate_dose_mg__isnull=False))
    outcomes = ["no_response"] * 4 + ["partial_response"] * 2 + [
        "response", "remission", "intolerance", "unknown"]
    adherence = ["good"] * 6 + ["partial", "poor", "unknown"]
    trials, plans = [], []
    for patient in people:
        day = now - timedelta(days=rng.randrange(1500, 2400))
        for index in range(TRIALS_PER_PATIENT):
            drug = rng.choice(drugs)
            length = rng.randrange(14, 150)
            last = index == TRIALS_PER_PATIENT - 1
            ongoing = last and rng.random() < 0.3
            end = None if ongoing else min(day + timedelta(days=length), now)
            dose = drug.min_adequate_dose_mg * Decimal(rng.choice(["0.5", "1", "1.5"]))
            trials.append(
                Trial(
                    patient=patient, drug=drug, start_date=day, end_date=end, dose_mg=dose,
                    adherence=rng.choice(adherence),
                    outcome="ongoing" if ongoing else rng.choice(outcomes),
                )
            )
            change_on = day + timedelta(days=rng.randrange(7, 29))
            plans.append(change_on if rng.random() < 0.5 and change_on <= (end or now) else None)
            day = (end or now) + timedelta(days=rng.randrange(1, 40))
            if day > now - timedelta(days=20):
                day = now - timedelta(days=20)
    Trial.objects.bulk_create(trials, batch_size=5000)
    DoseChange.objects.bulk_create(
        [
            DoseChange(trial=trial, date=when, dose_mg=trial.dose_mg * 2)
            for trial, when in zip(trials, plans, strict=True)
            if when is not None
        ],
        batch_size=5000,
    )
    for start in range(0, len(people), 1000):
        refresh_trd_summaries(people[start:start + 1000])
    sample = people[len(people) // 2]
    return {"practice": practice, "user": user, "patients": len(people), "sample": sample,
            "trials": len(trials)}


# --- export (in a subprocess) ----------------------------------------------------------------

def find_export_service():
    """The exports engineer's trials_csv writer, or None (then we use our own pipeline)."""
    try:
        from reports.exporters import write_trials_csv
        from reports.models import ExportJob, ExportKind
    except ImportError:
        return None

    def run(practice_id: int, path: str) -> None:
        job = ExportJob(practice_id=practice_id, kind=ExportKind.TRIALS_CSV, options={})
        write_trials_csv(job, path, lambda done, total: None)

    return "reports.exporters.write_trials_csv", run


def our_csv_pipeline(practice_id: int, path: str) -> None:
    import csv

    from django.db.models import Prefetch

    from trdtracker.validators import today
    from treatments import trd
    from treatments.models import DoseChange, Trial

    as_of = today()
    trials = (
        Trial.objects.active()
        .filter(patient__practice_id=practice_id, patient__deleted_at__isnull=True)
        .select_related("drug", "patient")
        .prefetch_related(Prefetch("dose_changes", queryset=DoseChange.objects.order_by("date")))
        .order_by("patient__identifier", "patient_id", "start_date", "id")
    )
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        for trial in trials.iterator(chunk_size=CHUNK_SIZE):
            ev = trd.evaluate_trial(
                trial.facts(), as_of=as_of, episode_start=trial.patient.episode_start
            )
            writer.writerow([
                trial.patient.identifier, trial.drug.name, trial.drug.drug_class,
                trial.start_date, trial.end_date or "", trd.format_dose(trial.dose_mg),
                ev.days_at_adequate_dose, trial.adherence, trial.outcome, ev.adequate,
                ev.counts_toward_trd, "; ".join(ev.reasons),
            ])


def peak_rss_kib() -> int:
    """This process's peak resident set size (VmHWM), in KiB.

    Not getrusage's ru_maxrss: Linux keeps that across fork and exec, so a child started by
    a big parent reports the parent's size.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def export_child(practice_id: int) -> None:
    """Run one export in this (fresh) process and print its figures as JSON."""
    import django

    django.setup()
    from treatments.models import Trial

    found = find_export_service()
    pipeline, run = found if found else ("our_csv_pipeline", our_csv_pipeline)
    rows = Trial.objects.active().filter(patient__practice_id=practice_id).count()
    baseline = peak_rss_kib()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "trials.csv")
        started = time.perf_counter()
        run(practice_id, path)
        seconds = time.perf_counter() - started
        size = os.path.getsize(path)
    peak = peak_rss_kib()
    print(json.dumps({
        "pipeline": pipeline, "rows": rows, "seconds": round(seconds, 3), "bytes": size,
        "peak_rss_kib": peak, "baseline_rss_kib": baseline,
    }))


def measure_export(practice_id: int) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--export-child", str(practice_id)],
        check=True, capture_output=True, text=True, env=os.environ.copy(),
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["rows_per_second"] = round(figures["rows"] / figures["seconds"])
    figures["peak_rss_mib"] = round(figures["peak_rss_kib"] / 1024, 1)
    figures["growth_over_baseline_mib"] = round(
        (figures["peak_rss_kib"] - figures["baseline_rss_kib"]) / 1024, 1
    )
    return figures


COPY_SQL = """
COPY (
  SELECT p.identifier, p.date_of_birth, d.name, d.drug_class, t.start_date, t.end_date,
         t.dose_mg, GREATEST(t.dose_mg, (SELECT max(c.dose_mg) FROM treatments_dosechange c
                                         WHERE c.trial_id = t.id)),
         t.adherence, t.outcome
  FROM treatments_trial t
  JOIN patients_patient p ON p.id = t.patient_id
  JOIN treatments_drug d ON d.id = t.drug_id
  WHERE p.practice_id = {practice_id} AND p.deleted_at IS NULL AND t.deleted_at IS NULL
  ORDER BY p.identifier, p.id, t.start_date, t.id
) TO STDOUT WITH CSV HEADER
"""


def measure_copy(practice_id: int, rows: int) -> dict:
    from django.db import connection

    timings = []
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "copy.csv")
        for _ in range(3):
            with connection.cursor() as cursor, open(path, "w", encoding="utf-8") as out:
                started = time.perf_counter()
                cursor.cursor.copy_expert(COPY_SQL.format(practice_id=int(practice_id)), out)
                timings.append(time.perf_counter() - started)
        size = os.path.getsize(path)
    best = min(timings)
    return {"rows": rows, "seconds": round(best, 3), "bytes": size,
            "rows_per_second": round(rows / best)}


# --- page latency ------------------------------------------------------------------------------

def median_ms(client, url: str, requests: int, before=None) -> float:
    timings = []
    for _ in range(2):  # warm-up
        if before:
            before()
        client.get(url)
    for _ in range(requests):
        if before:
            before()
        started = time.perf_counter()
        response = client.get(url)
        timings.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
    return round(statistics.median(timings) * 1000, 1)


def measure_pages(built: dict, requests: int) -> dict:
    from django.core.cache import cache
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(built["user"])
    patient = built["sample"]
    return {
        "patients": built["patients"],
        "trials": built["trials"],
        "patient_list_median_ms": median_ms(client, reverse("patients:patient-list"), requests),
        "patient_page_median_ms": median_ms(client, patient.get_absolute_url(), requests),
        "dashboard_cold_median_ms": median_ms(
            client, reverse("dashboard:dashboard"), max(requests // 4, 3), before=cache.clear
        ),
    }


# --- main ------------------------------------------------------------------------------------

def machine() -> dict:
    import platform

    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu": cpu, "python": platform.python_version()}


def run_bench(export_sizes: list[int], page_sizes: list[int], requests: int) -> dict:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from trdtracker.validators import today

    log("migrating the scratch database")
    call_command("migrate", verbosity=0)
    settings.DEBUG = False  # no query log in memory while measuring
    connection.ensure_connection()
    server = connection.connection.server_version

    patient_counts = sorted(set(page_sizes) | {t // TRIALS_PER_PATIENT for t in export_sizes})
    practices = {}
    for count in patient_counts:
        log(f"building a practice of {count} patients x {TRIALS_PER_PATIENT} trials")
        started = time.perf_counter()
        practices[count] = build_practice(count, f"p{count}")
        log(f"  built in {time.perf_counter() - started:.1f}s")

    log("ANALYZE (a live database has planner statistics; a fresh bulk load has none)")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    exports = []
    for trials in export_sizes:
        built = practices[trials // TRIALS_PER_PATIENT]
        practice_id = built["practice"].pk
        log(f"export of {built['trials']} trials")
        ours = measure_export(practice_id)
        copy = measure_copy(practice_id, ours["rows"])
        exports.append({
            "trials": built["trials"],
            "export": ours,
            "postgres_copy": copy,
            "ratio_to_copy": round(ours["rows_per_second"] / copy["rows_per_second"], 3),
        })

    pages = []
    for count in page_sizes:
        log(f"page latency with {count} patients")
        pages.append(measure_pages(practices[count], requests))

    return {
        "date": today().isoformat(),
        "machine": machine(),
        "postgres_server_version": server,
        "export_memory": "peak RSS (VmHWM) of the export subprocess; baseline = after setup",
        "exports": exports,
        "pages": pages,
        "requests_per_page": requests,
    }


def main() -> None:
    url = os.environ.get("DATABASE_URL", "")
    require_postgres(url)
    if len(sys.argv) == 3 and sys.argv[1] == "--export-child":
        export_child(int(sys.argv[2]))
        return

    export_sizes = env_sizes("BENCH_SIZES", "10000,100000")
    page_sizes = env_sizes("BENCH_PATIENTS", "10,10000")
    requests = int(os.environ.get("BENCH_REQUESTS", "20"))
    name = f"trd_bench_{os.getpid()}"
    admin = admin_connection(url)
    log(f"creating scratch database {name}")
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = with_database(url, name)
    try:
        import django

        django.setup()
        started = time.perf_counter()
        report = run_bench(export_sizes, page_sizes, requests)
        report["total_seconds"] = round(time.perf_counter() - started, 1)
    finally:
        from django.db import connections

        connections.close_all()
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
        log(f"dropped {name}")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
