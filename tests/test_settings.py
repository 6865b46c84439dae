"""Configuration from the environment: the production guard and the service switches."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


SMTP = "django.core.mail.backends.smtp.EmailBackend"
PRODUCTION = {"DEBUG": "0", "SECRET_KEY": "x" * 60, "EMAIL_BACKEND": SMTP}
CONFIGURED = {
    "SECRET_KEY",
    "DEBUG",
    "REDIS_URL",
    "EMAIL_BACKEND",
    "TRUSTED_PROXY",
    "MIGRATE_DATABASE_URL",
    "DATABASE_URL",
    "DATABASE_JIT",
}


def run_settings(env_overrides: dict, code: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in CONFIGURED}
    env.update(env_overrides)
    env["DJANGO_SETTINGS_MODULE"] = "trdtracker.settings"
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_refuses_to_start_with_debug_off_and_the_dev_secret():
    result = run_settings({"DEBUG": "0"}, "print('started')")
    assert result.returncode != 0
    assert "SECRET_KEY is the development default" in result.stderr
    assert "started" not in result.stdout


def test_it_starts_with_debug_off_and_a_real_secret():
    result = run_settings(
        {"DEBUG": "0", "SECRET_KEY": "x" * 60, "EMAIL_BACKEND": SMTP},
        "from django.conf import settings; print(settings.DEBUG, settings.SESSION_COOKIE_SECURE)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False True"


def test_it_warns_about_the_dev_secret_in_debug_mode():
    result = run_settings({}, "print('started')")
    assert result.returncode == 0, result.stderr
    assert "development SECRET_KEY" in result.stderr


def test_it_rejects_a_malformed_boolean():
    result = run_settings({"DEBUG": "maybe"}, "print('started')")
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_without_redis_celery_runs_eagerly_and_the_cache_is_local():
    result = run_settings(
        {},
        "from django.conf import settings; from trdtracker.celery import app; "
        "print(app.conf.task_always_eager, settings.CACHES['default']['BACKEND'])",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "django.core.cache.backends.locmem.LocMemCache"]


def test_with_redis_url_celery_and_the_cache_use_redis():
    result = run_settings(
        {"REDIS_URL": "redis://127.0.0.1:6379/9"},
        "from django.conf import settings; from trdtracker.celery import app; "
        "print(app.conf.task_always_eager, app.conf.broker_url, "
        "settings.CACHES['default']['BACKEND'])",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "False",
        "redis://127.0.0.1:6379/9",
        "trdtracker.cache.FailOpenRedisCache",
    ]


def test_with_redis_url_sessions_live_in_the_cache_backed_by_the_database():
    with_redis = run_settings(
        {"REDIS_URL": "redis://127.0.0.1:6379/9"},
        "from django.conf import settings; print(settings.SESSION_ENGINE)",
    )
    without = run_settings({}, "from django.conf import settings; print(settings.SESSION_ENGINE)")
    assert with_redis.stdout.strip() == "django.contrib.sessions.backends.cached_db"
    assert without.stdout.strip() == "django.contrib.sessions.backends.db"


@pytest.mark.parametrize("backend", [None, ""])
def test_with_debug_off_the_web_server_refuses_to_start_without_an_email_backend(backend):
    env = {"DEBUG": "0", "SECRET_KEY": "x" * 60}
    if backend is not None:
        env["EMAIL_BACKEND"] = backend
    result = run_settings(env, "import trdtracker.wsgi; print('started')")
    assert result.returncode != 0
    assert "EMAIL_BACKEND is not set" in result.stderr
    assert "started" not in result.stdout


def test_with_debug_off_a_worker_refuses_to_start_without_an_email_backend():
    env = {k: v for k, v in os.environ.items() if k not in CONFIGURED}
    env.update({"DEBUG": "0", "SECRET_KEY": "x" * 60})
    result = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "trdtracker", "worker", "--pool=solo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Refusing to start: EMAIL_BACKEND is not set" in result.stderr


def test_with_debug_off_the_web_server_starts_with_an_explicit_email_backend():
    result = run_settings(PRODUCTION, "import trdtracker.wsgi; print('started')")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "started"


def test_with_debug_off_an_explicit_email_backend_is_used_as_given():
    result = run_settings(
        {**PRODUCTION, "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend"},
        "from django.conf import settings; print(settings.EMAIL_BACKEND)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "django.core.mail.backends.filebased.EmailBackend"


def test_the_forwarded_proto_header_is_trusted_only_behind_a_trusted_proxy():
    code = "from django.conf import settings; print(settings.SECURE_PROXY_SSL_HEADER)"
    assert run_settings(PRODUCTION, code).stdout.strip() == "None"
    behind_proxy = run_settings({**PRODUCTION, "TRUSTED_PROXY": "1"}, code)
    assert behind_proxy.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https')"


def test_migrations_use_the_owner_url_and_default_to_the_app_url():
    code = (
        "from django.conf import settings; d = settings.DATABASES; "
        "print(d['default']['USER'], d['owner']['USER'], d['owner']['TEST']['MIRROR'])"
    )
    app_url = "postgres://trd_app@127.0.0.1:5432/trd"
    one_url = run_settings({"DATABASE_URL": app_url}, code)
    two_urls = run_settings(
        {
            "DATABASE_URL": app_url,
            "MIGRATE_DATABASE_URL": "postgres://trd_owner@127.0.0.1:5432/trd",
        },
        code,
    )
    assert one_url.stdout.split() == ["trd_app", "trd_app", "default"]
    assert two_urls.stdout.split() == ["trd_app", "trd_owner", "default"]


def test_production_hashes_passwords_with_pbkdf2():
    # The test suite swaps in a fast hasher (tests/conftest.py); the settings themselves do not.
    result = run_settings(
        {}, "from django.contrib.auth.hashers import make_password; print(make_password('x'))"
    )
    assert result.returncode == 0, result.stderr
    algorithm, iterations, *_ = result.stdout.strip().split("$")
    assert algorithm == "pbkdf2_sha256" and int(iterations) >= 1_000_000


def test_database_url_selects_postgresql():
    result = run_settings(
        {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/trd"},
        "from django.conf import settings; d = settings.DATABASES['default']; "
        "print(d['ENGINE'], d['NAME'])",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "trd"]


def test_without_database_url_it_uses_an_embedded_sqlite_file():
    result = run_settings(
        {"DATABASE_URL": ""},
        "from django.conf import settings; d = settings.DATABASES['default']; "
        "print(d['ENGINE'], d['NAME'])",
    )
    assert result.returncode == 0, result.stderr
    engine, name = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert Path(name) == ROOT / "db.sqlite3"


def test_production_settings_pass_the_deploy_checks():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **{
                k: v
                for k, v in os.environ.items()
                if k not in {"DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
            },
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "trd.example.org",
            "EMAIL_BACKEND": SMTP,
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_pages_carry_a_strict_content_security_policy(client):
    policy = client.get("/accounts/login/")["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy


JIT_CODE = (
    "from django.conf import settings; d = settings.DATABASES; "
    "print(d['default']['OPTIONS'], d['owner']['OPTIONS'], sep='|')"
)
APP_URL = "postgres://trd_app@127.0.0.1:5432/trd"
OWNER_URL = "postgres://trd_owner@127.0.0.1:5432/trd"


def test_postgresql_connections_run_without_jit_by_default():
    result = run_settings({"DATABASE_URL": APP_URL, "MIGRATE_DATABASE_URL": OWNER_URL}, JIT_CODE)
    assert result.returncode == 0, result.stderr
    jit_off = str({"options": "-c jit=off"})
    assert result.stdout.strip().split("|") == [jit_off, jit_off]


def test_database_jit_1_leaves_postgresqls_jit_setting_alone():
    result = run_settings({"DATABASE_URL": APP_URL, "DATABASE_JIT": "1"}, JIT_CODE)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().split("|") == ["{}", "{}"]


def test_jit_off_is_added_to_options_given_in_the_database_url():
    url = APP_URL + "?options=-c%20statement_timeout%3D5000&sslmode=require"
    result = run_settings({"DATABASE_URL": url}, JIT_CODE)
    assert result.returncode == 0, result.stderr
    both = str({"options": "-c statement_timeout=5000 -c jit=off", "sslmode": "require"})
    assert result.stdout.strip().split("|") == [both, both]


def test_a_malformed_database_jit_is_refused():
    result = run_settings({"DATABASE_URL": APP_URL, "DATABASE_JIT": "sometimes"}, JIT_CODE)
    assert result.returncode != 0
    assert "DATABASE_JIT must be a boolean" in result.stderr


def test_sqlite_gets_no_jit_option():
    result = run_settings({"DATABASE_URL": ""}, JIT_CODE)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().split("|") == ["{}", "{}"]


@pytest.mark.django_db
def test_the_connection_the_tests_use_has_jit_off():
    """On PostgreSQL (CI) the server confirms it; SQLite has no JIT, and gets no option for it."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW jit")
            assert cursor.fetchone()[0] == "off"
    else:
        assert connection.vendor == "sqlite"
        assert "options" not in connection.settings_dict["OPTIONS"]
