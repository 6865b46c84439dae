import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trdtracker.settings")
application = get_wsgi_application()

from trdtracker.production import refuse_unsafe_production  # noqa: E402 (needs Django set up)

refuse_unsafe_production()
