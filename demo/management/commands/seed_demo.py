import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from demo.seed import seed_demo


class Command(BaseCommand):
    help = "Create (or refresh) the synthetic demo practices, users and patients. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password", help="Password for every demo user (default: a generated one)."
        )

    def handle(self, *args, password=None, **options):
        if password:
            try:
                validate_password(password)
            except ValidationError as error:
                raise CommandError("Password rejected: " + " ".join(error.messages)) from None
        password = password or secrets.token_urlsafe(12)
        result = seed_demo(password)
        self.stdout.write(f"Demo data ready ({result['patients_created']} new patients).")
        self.stdout.write("Demo logins (synthetic data only):")
        for username in result["users"]:
            self.stdout.write(f"  {username:<18} {password}")
