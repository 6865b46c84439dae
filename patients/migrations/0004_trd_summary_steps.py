"""The stored TRD summary becomes a step function of the day (see Patient).

Existing summaries carry over as they were on their evaluation day; open trials that will
cross the threshold later are picked up by the nightly repair (treatments.tasks), which audits
each patient it corrects.
"""

from django.db import migrations, models

MIN_FAILED_TRIALS = 2  # treatments.trd.MIN_FAILED_TRIALS when this migration was written


def carry_over(apps, schema_editor):
    Patient = apps.get_model("patients", "Patient")
    patients = Patient.objects.using(schema_editor.connection.alias).exclude(trd_evaluated_on=None)
    changed = []
    for patient in patients.iterator(chunk_size=2000):
        day, count = patient.trd_evaluated_on, patient.trd_failed_count
        patient.trd_count_steps = [[day.isoformat(), count]]
        patient.trd_one_failed_on = day if count >= 1 else None
        patient.trd_meets_on = day if count >= MIN_FAILED_TRIALS else None
        changed.append(patient)
    Patient.objects.using(schema_editor.connection.alias).bulk_update(
        changed, ["trd_count_steps", "trd_one_failed_on", "trd_meets_on"], batch_size=500
    )


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0003_record_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="patient",
            name="trd_count_steps",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="patient",
            name="trd_meets_on",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="patient",
            name="trd_one_failed_on",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.RunPython(carry_over, migrations.RunPython.noop),
        migrations.RemoveField(model_name="patient", name="trd_failed_count"),
        migrations.RemoveField(model_name="patient", name="trd_meets"),
    ]
