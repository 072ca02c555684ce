"""The test suite: always the real PostgreSQL and Redis (127.0.0.1 by default, or DATABASE_URL / REDIS_URL).

Tasks sent from test code run in-process (eager) unless a test asks for the real worker (tests/conftest.py).
"""
import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/qts")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")

from .base import *  # noqa: F403
from .base import DATABASES, env

if not DATABASES["default"]["ENGINE"].endswith("postgresql"):
    raise RuntimeError("测试必须使用 PostgreSQL：请把 DATABASE_URL 设为 postgres://… 地址")

DEBUG = False
DEMO_MODE = True
CELERY_TASK_ALWAYS_EAGER = env.bool("QTS_TEST_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = env.path("QTS_MEDIA_ROOT", default=BASE_DIR / "var" / "test-media")  # noqa: F405
DATABASES["default"]["CONN_MAX_AGE"] = 0
