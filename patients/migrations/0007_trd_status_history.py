import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0006_diagnosis_and_episodes"),
    ]

    operations = [
        migrations.CreateModel(
            name="TrdStatusChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("changed_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("effective_on", models.DateField(help_text="The day the status took effect.")),
                ("meets_trd", models.BooleanField()),
                ("failed_adequate_trial_count", models.PositiveSmallIntegerField()),
                ("applicable", models.BooleanField()),
                ("actor", models.CharField(blank=True, max_length=150)),
                ("cause_object_type", models.CharField(blank=True, max_length=50)),
                ("cause_object_id", models.CharField(blank=True, max_length=64)),
                ("cause_action", models.CharField(max_length=20)),
                ("cause_summary", models.CharField(blank=True, max_length=300)),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="trd_changes",
                        to="patients.patient",
                    ),
                ),
            ],
            options={
                "ordering": ["changed_at", "id"],
                "indexes": [
                    models.Index(fields=["patient", "changed_at"], name="trd_change_patient_time")
                ],
            },
        ),
    ]
