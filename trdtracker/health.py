"""Health endpoints for load balancers and compose: `/healthz` (the process answers) and
`/readyz` (database, cache, broker, storage, no unapplied migrations).

They are answered by a middleware at the top of the stack, before host validation, the HTTPS
redirect and sign-in, so a probe from inside a container needs no configured host name. The
answers name components only: no versions, hosts or error texts.
"""

import logging
import uuid

from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.utils.cache import patch_cache_control

logger = logging.getLogger(__name__)


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


_migrations_applied = False


def check_migrations() -> None:
    # Loading every migration file takes tens of milliseconds: once all are applied, a running
    # process's code cannot gain new ones, so the answer is kept.
    global _migrations_applied
    if _migrations_applied:
        return
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise RuntimeError("unapplied migrations")
    _migrations_applied = True


def check_cache() -> None:
    ping = getattr(cache, "ping", None)  # the fail-open Redis cache would hide an outage
    if ping is not None:
        ping()
        return
    key = f"readyz-{uuid.uuid4().hex}"
    cache.set(key, "ok", 10)
    if cache.get(key) != "ok":
        raise RuntimeError("cache did not keep a value")
    cache.delete(key)


def check_broker() -> None:
    from trdtracker.celery import app

    with app.connection_for_write() as broker:
        broker.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=1)


def check_storage() -> None:
    name = default_storage.save(f"health/probe-{uuid.uuid4().hex}", ContentFile(b"ok"))
    try:
        with default_storage.open(name, "rb") as probe:
            if probe.read() != b"ok":
                raise RuntimeError("storage did not keep a file")
    finally:
        default_storage.delete(name)


CHECKS = {
    "database": check_database,
    "migrations": check_migrations,
    "cache": check_cache,
    "broker": check_broker,
    "storage": check_storage,
}


def readiness() -> list[str]:
    """The names of the failing components (empty when ready)."""
    failing = []
    for name, check in CHECKS.items():
        if name == "migrations" and "database" in failing:
            failing.append(name)
            continue
        try:
            check()
        except Exception:
            logger.warning("Readiness check %s failed", name, exc_info=True)
            failing.append(name)
    return failing


def _answer(data: dict, status: int) -> JsonResponse:
    response = JsonResponse(data, status=status)
    patch_cache_control(response, no_store=True)
    return response


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD"):
            if request.path == "/healthz":
                return _answer({"status": "ok"}, 200)
            if request.path == "/readyz":
                failing = readiness()
                if failing:
                    return _answer({"status": "unavailable", "failing": failing}, 503)
                return _answer({"status": "ok", "checks": list(CHECKS)}, 200)
        return self.get_response(request)
