import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import beat_init, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trdtracker.settings")

app = Celery("trdtracker")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def refuse_unsafe_production(**kwargs):
    from django.core.exceptions import ImproperlyConfigured

    from trdtracker.production import refuse_unsafe_production

    try:
        refuse_unsafe_production()
    except ImproperlyConfigured as problem:
        # Celery logs and ignores exceptions from signal handlers; SystemExit stops it.
        raise SystemExit(f"Refusing to start: {problem}") from problem


# The whole beat schedule lives here.
app.conf.beat_schedule = {
    # Stored TRD summaries already know when open trials cross the 6-week mark; this only
    # finds and corrects (with an audit event) any summary that drifted from the history.
    "repair-trd-summaries-nightly": {
        "task": "treatments.tasks.repair_trd_summaries_task",
        "schedule": crontab(hour=2, minute=15),
    },
    # The dashboards are served precomputed: writes queue a recompute of their practice
    # (reports.dashboard.schedule_recompute); this catches up on anything that was missed.
    "recompute-dashboards": {
        "task": "reports.tasks.dashboard_recompute_all_task",
        "schedule": 5 * 60.0,  # reports.dashboard.REFRESH_MINUTES
    },
    # Export files are kept for 7 days; the jobs stay listed, marked as deleted.
    "expire-export-files-hourly": {
        "task": "reports.tasks.export_expire_task",
        "schedule": crontab(minute=5),
    },
    # A job whose worker died (stale heartbeat) is re-queued or failed: none stays stuck.
    "sweep-stale-exports-every-minute": {
        "task": "reports.tasks.export_sweep_task",
        "schedule": 60.0,
    },
    # Reviews due at 4, 6 and 8 weeks and patients without a recent score, for the practice's
    # clinicians (once per event), and the optional e-mail digest (NOTIFICATION_DIGEST).
    "create-notifications-daily": {
        "task": "notifications.tasks.create_notifications_task",
        "schedule": crontab(hour=6, minute=30),
    },
}
