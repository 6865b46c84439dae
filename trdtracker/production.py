"""What the web server and the workers refuse to start with when DEBUG is off.

Checked where they start (trdtracker/wsgi.py, the Celery worker and beat), not in the settings
module, so build-time commands such as `collectstatic` need no production secrets.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def problems() -> list[str]:
    found = []
    if settings.PRODUCTION and not settings.EMAIL_BACKEND_CONFIGURED:
        found.append(
            "EMAIL_BACKEND is not set: with DEBUG=0 set it explicitly (for example "
            "django.core.mail.backends.smtp.EmailBackend with EMAIL_HOST); the console backend "
            "would write invitation and password-reset links to the server log."
        )
    return found


def refuse_unsafe_production() -> None:
    found = problems()
    if found:
        raise ImproperlyConfigured(" ".join(found))
