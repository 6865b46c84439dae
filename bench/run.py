"""Benchmark (not a test): exports, summaries, dashboard, pages and the audit API on PostgreSQL.

    DATABASE_URL=postgres://user@host:5432/db python bench/run.py      (or `make bench`)
    BENCH_QUICK=1 ...                                                  (a reduced set, < 2 min)

It creates a scratch database `trd_bench_<pid>` on the server of DATABASE_URL, migrates
it, fills synthetic practices with bulk_create (no audit events), runs VACUUM ANALYZE (as
autovacuum would have in a live database), measures, prints one
JSON object on stdout and drops the scratch database, whatever happens. Progress goes to
stderr. Every figure is a measurement of this run; compare them as ratios within one run.

- exports[]: the `trials_csv` writer of reports.exporters, in a fresh subprocess writing a
  real file (peak RSS = VmHWM of that subprocess, beside its baseline after setup), against
  PostgreSQL's `COPY (SELECT ...) TO STDOUT WITH CSV` of the same trials (stored columns; it
  cannot apply the TRD rule), best of three. Both run with JIT off (the export child gets
  PGOPTIONS=-c jit=off; COPY runs after SET jit = off): `ratio_to_copy` is export rows/s over
  JIT-off COPY rows/s. `postgres_copy_jit_on` and `ratio_to_copy_jit_on` show JIT's effect.
- summaries[]: seconds to re-evaluate and store the TRD summary of every patient of a practice
  (`refresh_seconds`: treatments.services.refresh_trd_summaries over all of them at once) and
  the nightly check over the same practice (`repair_seconds`, nothing to correct).
- dashboard[]: `compute_cold_ms`, reports.dashboard.compute_dashboard (best of three) and
  `page_cold_median_ms`, the dashboard page with an empty cache; `queries` the page's query
  count with an empty cache. The bench has no broker (Celery runs eagerly), so where a large
  practice's page would queue its computation, the queued task runs inside the request and is
  timed with it; `page_warm_median_ms` is what a request costs with figures in the cache.
- patient_page[]: the patient page of one patient with 2, 40 and 200 trials (median ms) and
  `ratio_to_2_trials`; `cold_cache_*` the same with the cache cleared before each request (the
  first view after a change renders the timeline and tables anew).
- pages[]: the patient list (first page and last page), a patient page and the dashboard with
  a cold cache, per practice size; `list_ratio_to_smallest` compares first pages.
- audit_api[]: GET /api/v1/audit-events/ unfiltered and ?action=view as an auditor, per number of
  events in the practice; `ratio_to_smallest` per filter.

Sizes: BENCH_SIZES (trials per export, default "10000,100000"; patients = trials / 10),
BENCH_PATIENTS (practices for the pages, default "10,10000,100000"), BENCH_DASHBOARD
(default "1000,10000,100000"), BENCH_SUMMARIES (default "10000"), BENCH_AUDIT_EVENTS (default
"10000,1000000"), BENCH_REQUESTS (default 20). BENCH_QUICK=1 changes the defaults to
"10000" / "10,1000" / "1000" / "1000" / "10000,100000" and 10 requests.
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


def build_practice(
    patients: int, label: str, trials_per_patient: int = TRIALS_PER_PATIENT, practice=None
) -> dict:
    """A practice with `patients` patients x `trials_per_patient` trials, and a clinician.

    With `practice`, the patients are added to that practice (no new clinician)."""
    from django.contrib.auth import get_user_model

    from accounts.models import Membership, Practice, Role
    from core.dates import today
    from patients.models import Patient
    from treatments.models import DoseChange, Drug, Trial
    from treatments.services import refresh_trd_summaries

    rng = random.Random(f"{SEED}-{label}-{patients}")
    user = None
    if practice is None:
        practice = Practice.objects.create(name=f"Bench {label}")
        user = get_user_model().objects.create_user(username=f"bench-{label}", password=None)
        Membership.objects.create(user=user, practice=practice, roles=[Role.CLINICIAN.value])

    now = today()
    people = Patient.objects.bulk_create(
        [
            Patient(
                practice=practice,
                identifier=f"{label}-{n:06d}"
                if trials_per_patient != TRIALS_PER_PATIENT
                else f"B{n:06d}",
                date_of_birth=date(1940 + rng.randrange(20), rng.randrange(1, 13), 1),
                episode_start=now - timedelta(days=rng.randrange(400, 2500))
                if rng.random() < 0.5
                else None,
            )
            for n in range(patients)
        ],
        batch_size=CHUNK_SIZE,
    )
    drugs = list(Drug.objects.filter(min_adequate_dose_mg__isnull=False))
    outcomes = (
        ["no_response"] * 4
        + ["partial_response"] * 2
        + ["response", "remission", "intolerance", "unknown"]
    )
    adherence = ["good"] * 6 + ["partial", "poor", "unknown"]
    trials, plans = [], []
    for patient in people:
        span = max(trials_per_patient * 100, 1500)
        day = now - timedelta(days=rng.randrange(span, span + 900))
        for index in range(trials_per_patient):
            drug = rng.choice(drugs)
            length = rng.randrange(14, 150)
            last = index == trials_per_patient - 1
            ongoing = last and rng.random() < 0.3
            end = None if ongoing else min(day + timedelta(days=length), now)
            dose = drug.min_adequate_dose_mg * Decimal(rng.choice(["0.5", "1", "1.5"]))
            trials.append(
                Trial(
                    patient=patient,
                    drug=drug,
                    start_date=day,
                    end_date=end,
                    dose_mg=dose,
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
        refresh_trd_summaries(people[start : start + 1000])
    sample = people[len(people) // 2]
    return {
        "practice": practice,
        "user": user,
        "patients": len(people),
        "sample": sample,
        "trials": len(trials),
    }


# --- export (in a subprocess) ----------------------------------------------------------------


def run_trials_export(practice_id: int, path: str) -> None:
    from reports.exporters import write_trials_csv
    from reports.models import ExportJob, ExportKind

    job = ExportJob(practice_id=practice_id, kind=ExportKind.TRIALS_CSV, options={})
    write_trials_csv(job, path, lambda done, total: None)


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

    rows = Trial.objects.active().filter(patient__practice_id=practice_id).count()
    baseline = peak_rss_kib()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "trials.csv")
        started = time.perf_counter()
        run_trials_export(practice_id, path)
        seconds = time.perf_counter() - started
        size = os.path.getsize(path)
    peak = peak_rss_kib()
    print(
        json.dumps(
            {
                "pipeline": "reports.exporters.write_trials_csv",
                "rows": rows,
                "seconds": round(seconds, 3),
                "bytes": size,
                "peak_rss_kib": peak,
                "baseline_rss_kib": baseline,
            }
        )
    )


def measure_export(practice_id: int) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--export-child", str(practice_id)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PGOPTIONS": "-c jit=off"},
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


def measure_copy(practice_id: int, rows: int, jit: bool) -> dict:
    from django.db import connection

    timings = []
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "copy.csv")
        for _ in range(3):
            with connection.cursor() as cursor, open(path, "w", encoding="utf-8") as out:
                cursor.execute(f"SET jit = {'on' if jit else 'off'}")
                started = time.perf_counter()
                cursor.cursor.copy_expert(COPY_SQL.format(practice_id=int(practice_id)), out)
                timings.append(time.perf_counter() - started)
        size = os.path.getsize(path)
        with connection.cursor() as cursor:
            cursor.execute("RESET jit")
    best = min(timings)
    return {
        "rows": rows,
        "seconds": round(best, 3),
        "bytes": size,
        "jit": jit,
        "rows_per_second": round(rows / best),
    }


# --- page latency ------------------------------------------------------------------------------


def timed_ms(call, repeats: int, warmup: int = 2, before=None) -> list[float]:
    timings = []
    for index in range(warmup + repeats):
        if before:
            before()
        started = time.perf_counter()
        call()
        if index >= warmup:
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def median_ms(client, url: str, requests: int, before=None, warmup: int = 2) -> float:
    def get():
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")

    return round(statistics.median(timed_ms(get, requests, warmup, before)), 1)


def signed_in(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def measure_pages(built: dict, requests: int) -> dict:
    from django.core.cache import cache
    from django.urls import reverse

    from patients.views import PAGE_SIZE

    client = signed_in(built["user"])
    patient = built["sample"]
    url = reverse("patients:patient-list")
    last_page = max(1, -(-built["patients"] // PAGE_SIZE))
    return {
        "patients": built["patients"],
        "trials": built["trials"],
        "patient_list_median_ms": median_ms(client, url, requests),
        "patient_list_last_page": last_page,
        "patient_list_last_page_median_ms": median_ms(client, f"{url}?page={last_page}", requests),
        "patient_page_median_ms": median_ms(client, patient.get_absolute_url(), requests),
        "dashboard_cold_median_ms": median_ms(
            client,
            reverse("dashboard:dashboard"),
            max(requests // 4, 3),
            before=cache.clear,
            warmup=1,
        ),
    }


def measure_dashboard(built: dict) -> dict:
    from django.core.cache import cache
    from django.db import connection
    from django.urls import reverse

    from reports.dashboard import compute_dashboard

    practice_id = built["practice"].pk
    compute = timed_ms(lambda: compute_dashboard(practice_id), 3, warmup=1)
    client = signed_in(built["user"])
    url = reverse("dashboard:dashboard")
    cache.clear()
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        client.get(url)
    return {
        "patients": built["patients"],
        "trials": built["trials"],
        "compute_cold_ms": round(min(compute), 1),
        "page_cold_median_ms": median_ms(client, url, 3, before=cache.clear, warmup=1),
        "page_warm_median_ms": median_ms(client, url, 10),
        "queries": len(queries),
    }


def measure_summaries(built: dict) -> dict:
    from patients.models import Patient
    from treatments.services import refresh_trd_summaries, repair_trd_summaries

    practice_id = built["practice"].pk
    patients = list(Patient.objects.filter(practice_id=practice_id))
    started = time.perf_counter()
    refresh_trd_summaries(patients)
    refresh = time.perf_counter() - started
    started = time.perf_counter()
    result = repair_trd_summaries(practice_id)
    repair = time.perf_counter() - started
    return {
        "patients": len(patients),
        "refresh_seconds": round(refresh, 2),
        "repair_seconds": round(repair, 2),
        "repaired": result["repaired"],
    }


def measure_patient_pages(trial_counts: list[int], requests: int) -> list[dict]:
    from django.core.cache import cache

    built = build_practice(1, "history", trials_per_patient=trial_counts[0])
    client = signed_in(built["user"])
    rows = []
    for count in trial_counts:
        one = (
            built["sample"]
            if count == trial_counts[0]
            else build_practice(
                1, f"history{count}", trials_per_patient=count, practice=built["practice"]
            )["sample"]
        )
        rows.append(
            {
                "trials": count,
                "median_ms": median_ms(client, one.get_absolute_url(), requests),
                "cold_cache_median_ms": median_ms(
                    client, one.get_absolute_url(), requests, before=cache.clear
                ),
            }
        )
    for row in rows:
        row["ratio_to_2_trials"] = round(row["median_ms"] / rows[0]["median_ms"], 2)
        row["cold_cache_ratio_to_2_trials"] = round(
            row["cold_cache_median_ms"] / rows[0]["cold_cache_median_ms"], 2
        )
    return rows


AUDIT_SQL = """
INSERT INTO audit_auditevent (timestamp, actor, practice_id, action, object_type, object_id,
                              patient_id, ip, details)
SELECT now() - n * interval '7 seconds', 'bench-auditor', %s,
       (ARRAY['view', 'view', 'view', 'update', 'create', 'export', 'login'])[1 + n %% 7],
       'patient', n::text, NULL, NULL, '{}'::jsonb
FROM generate_series(1, %s) AS n
"""


def measure_audit_api(events: int, requests: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from accounts.models import Membership, Practice, Role

    practice = Practice.objects.create(name=f"Bench audit {events}")
    user = get_user_model().objects.create_user(username=f"bench-auditor-{events}", password=None)
    Membership.objects.create(user=user, practice=practice, roles=[Role.AUDITOR.value])
    with connection.cursor() as cursor:
        cursor.execute(AUDIT_SQL, [practice.pk, events])
        cursor.execute("ANALYZE audit_auditevent")
    client = signed_in(user)
    return {
        "events": events,
        "unfiltered_median_ms": median_ms(client, "/api/v1/audit-events/", requests),
        "action_view_median_ms": median_ms(client, "/api/v1/audit-events/?action=view", requests),
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


def ratios(rows: list[dict], field: str, name: str) -> None:
    for row in rows:
        row[name] = round(row[field] / rows[0][field], 2) if rows[0][field] else None


def run_bench(sizes: dict, requests: int) -> dict:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from core.dates import today

    log("migrating the scratch database")
    call_command("migrate", verbosity=0)
    settings.DEBUG = False  # no query log in memory while measuring
    connection.ensure_connection()
    server = connection.connection.server_version

    patient_counts = sorted(
        set(sizes["pages"])
        | set(sizes["dashboard"])
        | set(sizes["summaries"])
        | {t // TRIALS_PER_PATIENT for t in sizes["exports"]}
    )
    practices = {}
    for count in patient_counts:
        log(f"building a practice of {count} patients x {TRIALS_PER_PATIENT} trials")
        started = time.perf_counter()
        practices[count] = build_practice(count, f"p{count}")
        log(f"  built in {time.perf_counter() - started:.1f}s")

    # A live database has planner statistics and a visibility map (autovacuum); a fresh bulk
    # load, whose rows were then updated with their summaries and figures, has neither.
    log("VACUUM ANALYZE")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")

    exports = []
    for trials in sizes["exports"]:
        built = practices[trials // TRIALS_PER_PATIENT]
        practice_id = built["practice"].pk
        log(f"export of {built['trials']} trials")
        ours = measure_export(practice_id)
        copy = measure_copy(practice_id, ours["rows"], jit=False)
        copy_jit = measure_copy(practice_id, ours["rows"], jit=True)
        exports.append(
            {
                "trials": built["trials"],
                "export": ours,
                "postgres_copy": copy,
                "postgres_copy_jit_on": copy_jit,
                "ratio_to_copy": round(ours["rows_per_second"] / copy["rows_per_second"], 3),
                "ratio_to_copy_jit_on": round(
                    ours["rows_per_second"] / copy_jit["rows_per_second"], 3
                ),
            }
        )

    summaries = []
    for count in sizes["summaries"]:
        log(f"summary recomputation of {count} patients")
        summaries.append(measure_summaries(practices[count]))

    dashboard = []
    for count in sizes["dashboard"]:
        log(f"dashboard with {count} patients")
        dashboard.append(measure_dashboard(practices[count]))
    ratios(dashboard, "compute_cold_ms", "compute_ratio_to_smallest")

    log("patient pages with 2, 40 and 200 trials")
    patient_page = measure_patient_pages([2, 40, 200], requests)

    pages = []
    for count in sizes["pages"]:
        log(f"pages with {count} patients")
        pages.append(measure_pages(practices[count], requests))
    ratios(pages, "patient_list_median_ms", "list_ratio_to_smallest")

    audit_api = []
    for events in sizes["audit"]:
        log(f"audit API with {events} events")
        audit_api.append(measure_audit_api(events, requests))
    ratios(audit_api, "unfiltered_median_ms", "unfiltered_ratio_to_smallest")
    ratios(audit_api, "action_view_median_ms", "action_view_ratio_to_smallest")

    return {
        "date": today().isoformat(),
        "machine": machine(),
        "postgres_server_version": server,
        "quick": QUICK,
        "export_memory": "peak RSS (VmHWM) of the export subprocess; baseline = after setup",
        "exports": exports,
        "summaries": summaries,
        "dashboard": dashboard,
        "patient_page": patient_page,
        "pages": pages,
        "audit_api": audit_api,
        "requests_per_page": requests,
    }


QUICK = os.environ.get("BENCH_QUICK") == "1"


def summary(report: dict) -> list[str]:
    """The headline figures, one per line, for a reader of stderr."""
    lines = []
    for row in report["exports"]:
        lines.append(
            f"export {row['trials']} trials: {row['ratio_to_copy']} of COPY (JIT off), "
            f"{row['ratio_to_copy_jit_on']} of COPY (JIT on), peak "
            f"{row['export']['peak_rss_mib']} MiB"
        )
    for row in report["summaries"]:
        lines.append(
            f"summaries of {row['patients']} patients: refresh {row['refresh_seconds']} s,"
            f" nightly check {row['repair_seconds']} s"
        )
    for row in report["dashboard"]:
        lines.append(
            f"dashboard {row['patients']} patients: compute {row['compute_cold_ms']} ms, "
            f"cold page {row['page_cold_median_ms']} ms, {row['queries']} queries"
        )
    for row in report["patient_page"]:
        lines.append(
            f"patient page {row['trials']} trials: {row['median_ms']} ms "
            f"({row['ratio_to_2_trials']}x the 2-trial page); cache cleared before "
            f"each: {row['cold_cache_median_ms']} ms "
            f"({row['cold_cache_ratio_to_2_trials']}x)"
        )
    for row in report["pages"]:
        lines.append(
            f"patient list {row['patients']} patients: {row['patient_list_median_ms']} ms"
            f", last page {row['patient_list_last_page_median_ms']} ms "
            f"({row['list_ratio_to_smallest']}x the smallest)"
        )
    for row in report["audit_api"]:
        lines.append(
            f"audit API {row['events']} events: {row['unfiltered_median_ms']} ms "
            f"({row['unfiltered_ratio_to_smallest']}x), ?action=view "
            f"{row['action_view_median_ms']} ms ({row['action_view_ratio_to_smallest']}x)"
        )
    return lines


def main() -> None:
    url = os.environ.get("DATABASE_URL", "")
    require_postgres(url)
    if len(sys.argv) == 3 and sys.argv[1] == "--export-child":
        export_child(int(sys.argv[2]))
        return

    sizes = {
        "exports": env_sizes("BENCH_SIZES", "10000" if QUICK else "10000,100000"),
        "pages": env_sizes("BENCH_PATIENTS", "10,1000" if QUICK else "10,10000,100000"),
        "dashboard": env_sizes("BENCH_DASHBOARD", "1000" if QUICK else "1000,10000,100000"),
        "summaries": env_sizes("BENCH_SUMMARIES", "1000" if QUICK else "10000"),
        "audit": env_sizes("BENCH_AUDIT_EVENTS", "10000,100000" if QUICK else "10000,1000000"),
    }
    requests = int(os.environ.get("BENCH_REQUESTS", "10" if QUICK else "20"))
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
        report = run_bench(sizes, requests)
        report["total_seconds"] = round(time.perf_counter() - started, 1)
    finally:
        from django.db import connections

        connections.close_all()
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
        log(f"dropped {name}")
    for line in summary(report):
        log(line)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
