"""Fill the stored per-trial figures (treatments/trial_figures.py) of the existing trials."""

from django.db import migrations

CHUNK = 2000


def fill(apps, schema_editor):
    from treatments import catalog, trd, trial_figures

    Drug = apps.get_model("treatments", "Drug")
    Trial = apps.get_model("treatments", "Trial")
    DoseChange = apps.get_model("treatments", "DoseChange")
    # The migrating connection (the owner role in production), not the app's default one.
    db = schema_editor.connection.alias
    drugs = {
        drug.pk: trd.DrugFacts(
            name=drug.name,
            drug_class=drug.drug_class,
            is_antidepressant=drug.is_antidepressant,
            min_adequate_dose_mg=drug.min_adequate_dose_mg,
            is_augmentation_agent=drug.is_augmentation_agent,
        )
        for drug in Drug.objects.using(db)
    }
    last_id = 0
    while True:
        rows = list(
            Trial.objects.using(db)
            .filter(pk__gt=last_id)
            .order_by("pk")
            .values_list("pk", "drug_id", "formulation", "start_date", "end_date", "dose_mg")[
                :CHUNK
            ]
        )
        if not rows:
            return
        last_id = rows[-1][0]
        changes = {}
        for trial_id, day, dose in (
            DoseChange.objects.using(db)
            .filter(trial_id__gte=rows[0][0], trial_id__lte=last_id)
            .order_by("trial_id", "date")
            .values_list("trial_id", "date", "dose_mg")
        ):
            changes.setdefault(trial_id, []).append(trd.DoseChange(date=day, dose_mg=dose))
        updated = []
        for pk, drug_id, formulation, start, end, dose in rows:
            stored = trial_figures.figures(
                trd.TrialFacts(
                    id=pk,
                    drug=catalog.with_formulation(drugs[drug_id], formulation),
                    start_date=start,
                    end_date=end,
                    dose_mg=dose,
                    dose_changes=tuple(changes.get(pk, ())),
                )
            )
            updated.append((pk, *stored))
        _store(Trial, updated, schema_editor.connection)


def _store(Trial, rows, connection):
    if connection.vendor != "postgresql":
        Trial.objects.using(connection.alias).bulk_update(
            [
                Trial(pk=pk, **dict(zip(trial_figures_fields(), values, strict=True)))
                for pk, *values in rows
            ],
            trial_figures_fields(),
            batch_size=500,
        )
        return
    # UPDATE ... FROM (VALUES ...): bulk_update's CASE per row is slow in Python and in SQL.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Trial._meta.db_table} AS t SET adequate_days_base = v.base, "
            "adequate_days_since = v.since::date, adequate_on = v.adequate_on::date, "
            "counts_as_antidepressant = v.ad "
            f"FROM (VALUES {', '.join(['(%s, %s, %s, %s, %s)'] * len(rows))}) "
            "AS v(id, base, since, adequate_on, ad) WHERE t.id = v.id",
            [value for row in rows for value in row],
        )


def trial_figures_fields():
    from treatments import trial_figures

    return list(trial_figures.TrialFigures._fields)


class Migration(migrations.Migration):
    dependencies = [("treatments", "0009_trial_figures")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
