from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Synthetic demo data (`manage.py seed_demo`): it uses every app; nothing imports it."""

    name = "demo"
