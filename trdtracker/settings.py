"""TRD Tracker settings: one module, configured from the environment.

With no environment at all the app runs on an embedded SQLite file with Celery
tasks executed eagerly, so `make run` needs no server. Production switches are
environment variables only (see `.env.example`).
"""

import logging
import os
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
logger = logging.getLogger("trdtracker.settings")


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None


DEBUG = env_bool("DEBUG", True)
# The deployment mode as configured, which test runners' DEBUG switching does not change.
PRODUCTION = not DEBUG

DEV_SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY") or DEV_SECRET_KEY
if SECRET_KEY == DEV_SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is the development default: set SECRET_KEY to a long random value "
            "before running with DEBUG=0."
        )
    logger.warning("Using the development SECRET_KEY; set SECRET_KEY for any real deployment.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# A proxy in front of gunicorn sets X-Forwarded-Proto and X-Forwarded-For: only then are they
# believed (HTTPS detection; the client address of audit events and the sign-in lockout).
TRUSTED_PROXY = env_bool("TRUSTED_PROXY", False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "accounts",
    "audit",
    "patients",
    "treatments",
    "reports",
    "api",
    "notifications",
    "imports",
    "demo",
]

MIDDLEWARE = [
    "trdtracker.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "trdtracker.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.twofactor.middleware.TwoFactorMiddleware",
    "accounts.middleware.AccessGuardMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "accounts.middleware.IdleTimeoutMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "trdtracker.urls"
WSGI_APPLICATION = "trdtracker.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
                "notifications.context_processors.notifications",
            ],
        },
    },
]

# Two roles on PostgreSQL: the application (web, workers, beat) connects as DATABASE_URL's role,
# which owns nothing and may only SELECT and INSERT audit events; migrations run as the owner
# (`migrate --database owner`, then `grant_app_role`). Unset, the owner is the same connection.
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
MIGRATE_DATABASE_URL = os.environ.get("MIGRATE_DATABASE_URL") or DATABASE_URL
# PostgreSQL's JIT compiles a plan's expressions when its cost estimate is high, which the
# estimates of the app's short queries over large tables often are: it then spends more time
# compiling than the query takes. Off unless DATABASE_JIT=1.
DATABASE_JIT = env_bool("DATABASE_JIT", False)


def database(url: str, **options) -> dict:
    config = dj_database_url.parse(url, **options)
    if config["ENGINE"] == "django.db.backends.postgresql" and not DATABASE_JIT:
        server_options = config.setdefault("OPTIONS", {})
        server_options["options"] = f"{server_options.get('options', '')} -c jit=off".strip()
    return config


DATABASES = {
    "default": database(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60)),
    "owner": {
        **database(MIGRATE_DATABASE_URL),
        # Tests use one database: the owner alias points at the default's test database.
        "TEST": {"MIRROR": "default"},
    },
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The development database ignores the INCLUDE columns of the dashboard's covering index
    # (treatments.Trial): the index still works there, only without being index-only.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            # Redis down means slower pages, never failing ones (see trdtracker/cache.py).
            "BACKEND": "trdtracker.cache.FailOpenRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
    # Sessions live in Redis with the database behind them: any web host can serve any
    # session, and sign-in keeps working while Redis is down.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    SESSION_ENGINE = "django.contrib.sessions.backends.db"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# An export runs at most EXPORT_TIME_LIMIT seconds. A message unacknowledged (its worker died)
# comes back after the visibility timeout, which must exceed the longest run; the beat sweep
# (reports.services.exports_sweep) notices a dead worker much sooner, by its stale heartbeat.
EXPORT_TIME_LIMIT = env_int("EXPORT_TIME_LIMIT", 60 * 60)
EXPORT_STALE_SECONDS = env_int("EXPORT_STALE_SECONDS", 5 * 60)
EXPORT_MAX_ATTEMPTS = env_int("EXPORT_MAX_ATTEMPTS", 3)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 2 * EXPORT_TIME_LIMIT,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# Publishing to a broker that is down fails within seconds (the request answers 503), not 20 s.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 0.5,
}
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE_FILENAME = str(Path(tempfile.gettempdir()) / "trdtracker-celerybeat-schedule")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.password_validation.RevokeApiTokensOnPasswordChange"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Export files go through Django's storage API: with several hosts, MEDIA_ROOT is a shared
# volume (or "default" becomes an S3 storage from django-storages).
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or BASE_DIR / "media")
# Exports are written here first (a private 0700 folder), then saved to storage once complete.
EXPORT_WORK_DIR = Path(
    os.environ.get("EXPORT_WORK_DIR") or Path(tempfile.gettempdir()) / "trdtracker-exports"
)

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.DeclaredAccess"],
    "DEFAULT_THROTTLE_RATES": {"token": "20/minute", "export_request": "30/hour"},
    "NUM_PROXIES": 1 if TRUSTED_PROXY else 0,
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.DepthLimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "api.schema.ApiSchema",
    "EXCEPTION_HANDLER": "api.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# API tokens (django-rest-knox): stored as digests, shown once; a token unused for
# API_TOKEN_IDLE_HOURS expires, and none lives longer than API_TOKEN_MAX_DAYS.
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=env_int("API_TOKEN_IDLE_HOURS", 8)),
    "AUTO_REFRESH": True,
    "AUTO_REFRESH_MAX_TTL": timedelta(days=env_int("API_TOKEN_MAX_DAYS", 30)),
    "MIN_REFRESH_INTERVAL": 300,
    "AUTH_HEADER_PREFIX": "Token",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "TRD Tracker API",
    "DESCRIPTION": "Antidepressant trial history, the TRD rule and options for discussion.",
    "VERSION": "1",
    # Documented as the JSON API it is; form posts still parse (clients that send forms get
    # the browser's "empty field means not given"), but are not the contract.
    "PARSER_WHITELIST": ["api.parsers.DepthLimitedJSONParser"],
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Invitation and password-reset mails carry live links: with DEBUG=0 the web server and the
# workers refuse to start unless EMAIL_BACKEND is set explicitly (trdtracker/production.py).
EMAIL_BACKEND_CONFIGURED = bool(os.environ.get("EMAIL_BACKEND"))
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND") or "django.core.mail.backends.console.EmailBackend"
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH") or str(BASE_DIR / "sent-mail")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "TRD Tracker <noreply@localhost>")
# Each clinician's daily e-mail of new reminders (counts only, no patient named); off by default.
NOTIFICATION_DIGEST = env_bool("NOTIFICATION_DIGEST", False)

# A patient's self-report link (treatments.self_report) works once, for this many days.
SELF_REPORT_LINK_DAYS = env_int("SELF_REPORT_LINK_DAYS", 7)

# Everything the pages load comes from this server: no CDN, no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
# The absolute lifetime of a session; the practice's idle timeout usually ends it sooner
# (accounts.middleware.IdleTimeoutMiddleware).
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 60 * 60)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # Trust X-Forwarded-Proto only when a TLS proxy in front of gunicorn sets it; otherwise any
    # client could claim https and receive Secure cookies over plain http.
    if TRUSTED_PROXY:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
