import django.db.models.deletion
from django.db import migrations, models

# Django's name for the practice foreign key's own index (the same on every database: it is
# derived from the table and column names).
PRACTICE_INDEX = "audit_auditevent_practice_id_0f688ae8"


class Migration(migrations.Migration):
    """Drop the practice foreign key's single-column index: every audit index starts with the
    practice, so it only cost a write per event. Only the index goes; an AlterField alone would
    also drop and re-validate the foreign key constraint over the whole trail."""

    dependencies = [
        ("accounts", "0003_crisis_text"),
        ("audit", "0005_event_patients"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{PRACTICE_INDEX}"',
                    reverse_sql=f'CREATE INDEX "{PRACTICE_INDEX}" '
                    'ON "audit_auditevent" ("practice_id")',
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="auditevent",
                    name="practice",
                    field=models.ForeignKey(
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="accounts.practice",
                    ),
                ),
            ],
        ),
    ]
