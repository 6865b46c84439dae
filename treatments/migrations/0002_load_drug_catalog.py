from django.db import migrations

from treatments.catalog import sync_catalog


def load_catalog(apps, schema_editor):
    sync_catalog(apps.get_model("treatments", "Drug"), using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [("treatments", "0001_initial")]

    operations = [migrations.RunPython(load_catalog, migrations.RunPython.noop)]
