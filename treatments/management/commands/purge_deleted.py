from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from audit.models import Action
from audit.services import record_event
from patients.models import Patient
from treatments.models import Therapy, Trial

ACTOR = "purge_deleted"


class Command(BaseCommand):
    help = (
        "Erase for good the clinical records that were removed (soft-deleted) more than "
        "--older-than-days ago. Each erased record is written to the audit trail first."
    )

    def add_arguments(self, parser):
        parser.add_argument("--older-than-days", type=int, required=True)
        parser.add_argument("--dry-run", action="store_true", help="Only count what would go.")

    def handle(self, *args, older_than_days, dry_run, **options):
        if older_than_days < 0:
            raise CommandError("--older-than-days cannot be negative.")
        cutoff = timezone.now() - timedelta(days=older_than_days)
        patients = Patient.objects.filter(deleted_at__lt=cutoff)
        trials = Trial.objects.filter(deleted_at__lt=cutoff) | Trial.objects.filter(
            patient__in=patients
        )
        therapies = Therapy.objects.filter(deleted_at__lt=cutoff) | Therapy.objects.filter(
            patient__in=patients
        )
        counts = {
            "patients": patients.count(),
            "trials": trials.count(),
            "therapies": therapies.count(),
        }
        if dry_run:
            self.stdout.write(f"Would erase: {counts}")
            return
        with transaction.atomic():
            for record in [
                *trials.select_related("patient"),
                *therapies.select_related("patient"),
                *patients,
            ]:
                patient = record if isinstance(record, Patient) else record.patient
                record_event(
                    actor=ACTOR,
                    practice_id=patient.practice_id,
                    action=Action.DELETE,
                    obj=record,
                    patient_id=patient.pk,
                    details={
                        "hard_delete": True,
                        "deleted_at": record.deleted_at.isoformat() if record.deleted_at else None,
                    },
                )
            for queryset in (trials, therapies, patients):
                queryset.model.objects.filter(
                    pk__in=list(queryset.values_list("pk", flat=True))
                ).delete()
        self.stdout.write(f"Erased: {counts}")
