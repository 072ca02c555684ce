"""Settings for bench/report_numbers_lookup.py: the production settings, with only the SSL redirect off and static files
served without a manifest (so that loopback HTTP works without collectstatic), and a URLconf that adds the baseline
view (bench/report_numbers_lookup_urls.py). Both endpoints are served by the same gunicorn."""
from config.settings.production import *  # noqa: F403
from config.settings.production import STORAGES

SECURE_SSL_REDIRECT = False
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
ROOT_URLCONF = "report_numbers_lookup_urls"
