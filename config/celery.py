"""The Celery app: settings come from Django's (CELERY_* names); tasks are found in each app's tasks.py."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("qts")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="config.ping", ignore_result=False)
def ping():
    """Round trip through the broker; used by the health check and the worker tests."""
    return "pong"
