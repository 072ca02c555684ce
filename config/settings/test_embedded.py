"""The embedded default, as `scripts/run.sh` runs it with nothing set, for the tests in tests/embedded: SQLite in a
file (a temporary one here, never var/db.sqlite3), Celery tasks in-process, local-memory cache.

Whatever DATABASE_URL or REDIS_URL the test command was given is ignored here: this suite is about the machine with
nothing set. Only test conveniences differ from config.settings.local (fast password hashing, e-mail kept in memory,
a temporary media directory).
"""
import atexit
import os
import shutil
import tempfile
from pathlib import Path

_TEMPORARY = Path(tempfile.mkdtemp(prefix="qts-embedded-"))
atexit.register(shutil.rmtree, _TEMPORARY, ignore_errors=True)

os.environ["DATABASE_URL"] = f"sqlite:///{_TEMPORARY / 'db.sqlite3'}"
os.environ["REDIS_URL"] = ""
os.environ["QTS_MEDIA_ROOT"] = str(_TEMPORARY / "media")

from .local import *  # noqa: E402, F403
from .local import CELERY_TASK_ALWAYS_EAGER, DATABASES  # noqa: E402

if not DATABASES["default"]["ENGINE"].endswith("sqlite3") or not CELERY_TASK_ALWAYS_EAGER:
    raise RuntimeError("config.settings.test_embedded must be the embedded default (SQLite, tasks in-process)")

# The test database is a file too, like the run command's, not SQLite's in-memory default.
DATABASES["default"]["TEST"] = {"NAME": str(_TEMPORARY / "test.sqlite3")}

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
