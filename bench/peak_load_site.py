"""Settings for bench/peak_load.py's gunicorn and Celery worker: the production settings with only the SSL redirect off,
static files served without a manifest (loopback HTTP, no collectstatic) and e-mail dropped after it was built (no mail
server on the bench machine; the reminders are still claimed, queued and marked sent by the worker)."""
from config.settings.production import *  # noqa: F403
from config.settings.production import STORAGES

SECURE_SSL_REDIRECT = False
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
