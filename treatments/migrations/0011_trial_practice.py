"""The patient's practice on each trial, and the indexes the dashboard reads its figures from."""

import django.db.models.deletion
from django.db import migrations, models

FILL = """
UPDATE treatments_trial SET practice_id = (
    SELECT patients_patient.practice_id FROM patients_patient
    WHERE patients_patient.id = treatments_trial.patient_id
)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_crisis_text"),
        ("patients", "0009_patient_list_order"),
        ("treatments", "0010_fill_trial_figures"),
    ]

    operations = [
        migrations.AddField(
            model_name="trial",
            name="practice",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.practice",
            ),
        ),
        migrations.RunSQL(FILL, migrations.RunSQL.noop, elidable=False),
        migrations.AlterField(
            model_name="trial",
            name="practice",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.practice",
            ),
        ),
        migrations.AddIndex(
            model_name="trial",
            index=models.Index(
                condition=models.Q(("deleted_at__isnull", True)),
                fields=["practice", "drug", "outcome"],
                name="trial_practice_outcomes",
            ),
        ),
        migrations.AddIndex(
            model_name="trial",
            index=models.Index(
                condition=models.Q(
                    ("counts_as_antidepressant", True), ("deleted_at__isnull", True)
                ),
                fields=["practice", "drug"],
                include=[
                    "start_date",
                    "end_date",
                    "adequate_days_base",
                    "adequate_days_since",
                    "adequate_on",
                    "adherence",
                ],
                name="trial_practice_adequate_days",
            ),
        ),
        migrations.AddIndex(
            model_name="trial",
            index=models.Index(
                condition=models.Q(
                    ("counts_as_antidepressant", True), ("deleted_at__isnull", True)
                ),
                fields=["patient", "outcome"],
                name="trial_patient_antidepressant",
            ),
        ),
    ]
