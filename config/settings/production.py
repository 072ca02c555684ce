"""Production: every secret and host from the environment; passes `manage.py check --deploy` with no warnings."""
from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import CONTENT_SECURITY_POLICY, DATABASES, EMAIL_BACKEND, LOGGING, REDIS_URL, env

DEBUG = False
DEMO_MODE = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")

# The embedded default (SQLite, tasks in-process, per-process cache) is for trying the portal, not for serving it
# (ADR 0004): production needs PostgreSQL (partitions and COPY for report numbers) and Redis (queue, rate limits).
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured(
        "生产环境必须使用 PostgreSQL：请设置 DATABASE_URL，例如 postgres://qts:密码@db.internal:5432/qts"
    )
if not REDIS_URL:
    raise ImproperlyConfigured("生产环境必须使用 Redis（任务队列、限流）：请设置 REDIS_URL，例如 redis://redis.internal:6379/0")

# Reminders and complaints must reach people: refuse the backends that print, keep or drop mail.
UNDELIVERING_EMAIL_BACKENDS = {
    f"django.core.mail.backends.{name}.EmailBackend" for name in ("console", "locmem", "dummy", "filebased")
}
if EMAIL_BACKEND in UNDELIVERING_EMAIL_BACKENDS:
    raise ImproperlyConfigured(
        f"生产环境不能使用邮件后端 {EMAIL_BACKEND}（邮件不会发出）：请设置 EMAIL_URL，"
        "例如 smtp+tls://用户名:密码@smtp.example.gov.cn:587"
    )
# A sender on the portal's own mail domain (a localhost sender is refused by most mail servers).
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# The base policy (ADR 0031), and over HTTPS any http: link the page still holds is fetched as https:. Violations
# are sent to QTS_CSP_REPORT_URI when set (a collector of the operator's; none by default).
CONTENT_SECURITY_POLICY = {
    **CONTENT_SECURITY_POLICY,
    "DIRECTIVES": {
        **CONTENT_SECURITY_POLICY["DIRECTIVES"],
        "upgrade-insecure-requests": True,
        **({"report-uri": env("QTS_CSP_REPORT_URI")} if env("QTS_CSP_REPORT_URI", default="") else {}),
    },
}

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

LOGGING["handlers"]["console"]["formatter"] = env("QTS_LOG_FORMAT", default="json")
