from django.core.management.base import BaseCommand, CommandError

from reports.models import ExportJob
from reports.services import file_sha256


class Command(BaseCommand):
    help = (
        "Say which export a file is: its SHA-256 is compared with the fingerprints stored "
        "for finished exports. Exits with status 1 when it matches none (the file was changed, "
        "or it is not an export of this installation)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The exported file to check.")

    def handle(self, *args, file, **options):
        try:
            with open(file, "rb") as handle:
                digest = file_sha256(handle)
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror or error}.") from error
        jobs = (
            ExportJob.objects.filter(sha256=digest)
            .select_related("practice", "created_by")
            .order_by("created_at", "id")
        )
        if not jobs:
            raise CommandError(f"{file} (SHA-256 {digest}) matches none of the exports.")
        self.stdout.write(f"{file} (SHA-256 {digest}) matches:")
        for job in jobs:
            by = job.created_by.username if job.created_by else "(removed user)"
            self.stdout.write(
                f"  export #{job.pk}: {job.kind} of {job.practice.name} "
                f"(practice #{job.practice_id}), created {job.created_at.isoformat()} by {by}"
            )
