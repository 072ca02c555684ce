from django.db import migrations

from institutions import reference


def load(apps, schema_editor):
    get = lambda name: apps.get_model("institutions", name)  # noqa: E731
    reference.load_reference_data(
        get("ProfessionalField"), get("CmaField"), get("SupervisingDepartment"), get("CmaIssuer"), get("Region")
    )


class Migration(migrations.Migration):
    dependencies = [("institutions", "0003_registry")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
