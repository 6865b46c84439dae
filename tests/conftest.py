"""The standing cast: a practice with a clinician, a colleague, an auditor and an admin,
and an outsider from another practice. Plus the services switch (REQUIRE_SERVICES)."""

import os
import shutil
import socket
import subprocess
import time
from contextlib import closing, contextmanager

import pytest
from django.conf import settings
from django.test import override_settings
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.models import Role

from .factories import PASSWORD, PatientFactory, PracticeFactory, member

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


@pytest.fixture(autouse=True)
def _fresh_request_budgets():
    """Rate limits and throttles count in the cache: each test starts with none spent."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing():
    """For speed: PBKDF2's million rounds took ~94 % of the suite's time. Production hashing is
    proven by tests/test_settings.py::test_production_hashes_passwords_with_pbkdf2."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


def need_service(name: str, available: bool, why: str):
    """Skip a test whose service is missing, or fail it when REQUIRE_SERVICES=1."""
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{name} is required (REQUIRE_SERVICES=1) but {why}")
    pytest.skip(f"{name} not configured: {why}")


@pytest.fixture
def redis_url():
    url = settings.REDIS_URL
    need_service("Redis", bool(url), "REDIS_URL is not set")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as error:
        need_service("Redis", False, f"cannot reach {url}: {error}")
    return url


def free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A Redis server this test owns, so it can stop it (the shared one stays up)."""

    def __init__(self):
        import redis

        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def redis_server():
    need_service(
        "redis-server", shutil.which("redis-server") is not None, "redis-server is not on the PATH"
    )
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture
def eager():
    """Tasks run in the test even when REDIS_URL points Celery at a real broker."""
    from trdtracker.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@contextmanager
def celery_using(url: str):
    """Celery in this process publishes to `url` (not eagerly) inside the block."""
    from trdtracker.celery import app

    saved = {key: app.conf[key] for key in ("broker_url", "result_backend", "task_always_eager")}
    app.conf.update(broker_url=url, result_backend=url, task_always_eager=False)
    app._after_fork()  # drop the pooled connections to the previous broker
    try:
        yield app
    finally:
        app.conf.update(saved)
        app._after_fork()


@pytest.fixture
def postgres():
    vendor = settings.DATABASES["default"]["ENGINE"]
    need_service("PostgreSQL", "postgresql" in vendor, "DATABASE_URL is not a postgres:// URL")


@pytest.fixture
def practice(db):
    return PracticeFactory(name="Test Practice")


@pytest.fixture
def other_practice(db):
    return PracticeFactory(name="Other Practice")


@pytest.fixture
def clinician(practice):
    return member(practice, Role.CLINICIAN, username="clinician")


@pytest.fixture
def colleague(practice):
    return member(practice, Role.CLINICIAN, username="colleague")


@pytest.fixture
def auditor(practice):
    return member(practice, Role.AUDITOR, username="auditor")


@pytest.fixture
def practice_admin(practice):
    return member(practice, Role.PRACTICE_ADMIN, username="admin")


@pytest.fixture
def outsider(other_practice):
    return member(other_practice, Role.CLINICIAN, username="outsider")


@pytest.fixture
def patient(practice):
    return PatientFactory(practice=practice, identifier="MRN-1")


@pytest.fixture
def outsiders_patient(other_practice):
    return PatientFactory(practice=other_practice, identifier="OTHER-1")


@pytest.fixture
def login(client):
    """Sign `user` into the Django test client and return the client."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def api():
    """An API client authenticated with a real token for `user` (or anonymous)."""

    def make(user=None):
        api_client = APIClient()
        if user is not None:
            _, token = AuthToken.objects.create(user=user)
            api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return api_client

    return make


@pytest.fixture
def password():
    return PASSWORD
