from django.db import migrations

from institutions import divisions


def load_regions(apps, schema_editor):
    divisions.load_divisions(apps.get_model("institutions", "Region"))


class Migration(migrations.Migration):
    dependencies = [("institutions", "0001_initial")]
    operations = [migrations.RunPython(load_regions, migrations.RunPython.noop)]
