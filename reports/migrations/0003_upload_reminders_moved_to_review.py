"""Upload reminders are rows of the one reminder table now (review.Reminder, reason "upload"; ADR 0019): review's
migration 0003 copied them there, so the old table goes."""
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('reports', '0002_batch_is_a_background_job'),
        ('review', '0003_one_reminder_mechanism'),
    ]

    operations = [
        migrations.DeleteModel(
            name='UploadReminder',
        ),
    ]
