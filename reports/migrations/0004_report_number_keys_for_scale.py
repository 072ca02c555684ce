"""The unique key leads with the institution, and the public lookup gets its own index on the number (ADR 0026).

On a large table run it in a quiet hour: each statement rebuilds an index over every partition."""
from django.db import migrations, models


def rebuild_keys(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE reports_reportnumber DROP CONSTRAINT reports_reportnumber_uniq")
            cursor.execute("ALTER TABLE reports_reportnumber "
                           "ADD CONSTRAINT reports_reportnumber_uniq UNIQUE (institution_id, number, year)")
        else:
            cursor.execute("DROP INDEX reports_reportnumber_uniq")
            cursor.execute("CREATE UNIQUE INDEX reports_reportnumber_uniq "
                           "ON reports_reportnumber (institution_id, number, year)")
        cursor.execute("CREATE INDEX reports_reportnumber_number ON reports_reportnumber (number)")


def restore_keys(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX reports_reportnumber_number")
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE reports_reportnumber DROP CONSTRAINT reports_reportnumber_uniq")
            cursor.execute("ALTER TABLE reports_reportnumber "
                           "ADD CONSTRAINT reports_reportnumber_uniq UNIQUE (number, institution_id, year)")
        else:
            cursor.execute("DROP INDEX reports_reportnumber_uniq")
            cursor.execute("CREATE UNIQUE INDEX reports_reportnumber_uniq "
                           "ON reports_reportnumber (number, institution_id, year)")


class Migration(migrations.Migration):
    dependencies = [("reports", "0003_upload_reminders_moved_to_review")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveConstraint(model_name="reportnumber", name="reports_reportnumber_uniq"),
                migrations.AddConstraint(
                    model_name="reportnumber",
                    constraint=models.UniqueConstraint(
                        fields=("institution", "number", "year"), name="reports_reportnumber_uniq"
                    ),
                ),
                migrations.AddIndex(
                    model_name="reportnumber",
                    index=models.Index(fields=["number"], name="reports_reportnumber_number"),
                ),
            ],
            database_operations=[migrations.RunPython(rebuild_keys, restore_keys)],
        ),
    ]
