"""Settings shared by every environment. Whatever differs between machines is read from the environment.

DATABASE_URL  sqlite:////abs/path.sqlite3 or postgres://user@host:5432/name; default: SQLite under var/
REDIS_URL     redis://host:6379/0; default: none, so Celery tasks run in-process and the cache is local memory
"""
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF, UNSAFE_HASHES
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

SECRET_KEY = env("DJANGO_SECRET_KEY", default="django-insecure-local-development-only-key-qts-portal")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Demo accounts and demo data may only be created where this is true (never in production).
DEMO_MODE = env.bool("QTS_DEMO_MODE", default=False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",  # the built-in widget templates, for FORM_RENDERER
    "crispy_forms",
    "crispy_bootstrap5",
    "accounts.axes_app.LoginProtectionConfig",  # django-axes, named in Chinese
    "simple_history",
    "accounts",
    "jobs",  # the abstract background job (no tables)
    "institutions",
    "reports",
    "filings",
    "review",
    "summaries",
    "portalhelp",  # 系统帮助: public help pages
    "notices",  # 通知公告
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The Content-Security-Policy below, on every response (static files included).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A refusal a view lets through becomes a message, the 404 page or JSON (config/refusals.py).
    "config.refusals.RefusalMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Every view needs a login unless marked @login_not_required (login page, public pages).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Last, so that it sees the outcome of authentication for throttling.
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy (django-csp, ADR 0031): scripts, styles, fonts and requests from this site only, so
# no inline <script>, on…= handler, javascript: URL or style="…" attribute runs. Here, not only in production, so
# that every test and the browser journeys (which fail on a violation) run under it. img-src data: is for
# Bootstrap's SVG icons in its CSS (select arrows, check marks, close buttons).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # The one style attribute of a third-party page we use: django-simple-history's admin history list
        # (<p class="paginator" style="border-top: 0">), allowed by its hash and nothing else.
        "style-src-attr": [UNSAFE_HASHES, "'sha256-XMXSevYjgSjXgRafBFDvtjwX+yyWLrxfso9DcNZ9UXM='"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
            ],
        },
    },
]

# An empty DATABASE_URL counts as unset (the embedded default).
DATABASES = {
    "default": env.db_url_config(env("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A streaming replica of the primary for the public lookup and the dashboard (config/replica.py); optional.
if env("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = {
        **env.db_url_config(env("DATABASE_REPLICA_URL")),
        "CONN_MAX_AGE": DATABASES["default"].get("CONN_MAX_AGE", 0),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {"connect_timeout": 2},  # a replica that does not answer costs 2 s once, then 30 s of primary
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["config.replica.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="").strip()
if REDIS_URL:
    # A miss, not a server error, while Redis is down (config/cache.py).
    CACHES = {"default": {"BACKEND": "config.cache.FailSoftRedisCache", "LOCATION": REDIS_URL}}
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    # Embedded default: no broker, so tasks run in-process when they are sent.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True

CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="qts")
CELERY_TASK_ACKS_LATE = True
# Jobs report through their rows, nobody reads a task's result: sending a task then does not subscribe to the result
# store, which fails the request (and must be restarted) while Redis is down. config.ping keeps its result.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    # Jobs whose message was lost (the broker was down) are sent again; those whose worker died are marked 已中断.
    "sweep-jobs": {"task": "jobs.sweep_jobs", "schedule": 60.0},
    "purge-expired-exports": {"task": "summaries.purge_expired_exports", "schedule": crontab(hour=3, minute=15)},
    "purge-old-import-files": {"task": "institutions.purge_old_import_files", "schedule": crontab(hour=3, minute=30)},
    # Automatic reminders 30, 7 and 1 days before the filing deadline (each point once per institution).
    "send-deadline-reminders": {"task": "review.send_deadline_reminders", "schedule": crontab(hour=9, minute=0)},
    # Reminders and digests still 待发送 whose message the broker lost are sent again (review/reminders.py).
    "resend-pending-mail": {"task": "review.resend_pending_mail", "schedule": 300.0},
    # 待办摘要: each officer's weekly digest on Monday morning (once per ISO week; a rerun sends nothing twice).
    "send-weekly-digests": {
        "task": "review.send_weekly_digests", "schedule": crontab(day_of_week="mon", hour=8, minute=0),
    },
}

# 催报情况: a city whose completeness lags its province's by at least this many percentage points is flagged 落后
# within this many days before the filing deadline (and listed in the province's weekly digest).
LAG_MARGIN_POINTS = env.int("QTS_LAG_MARGIN_POINTS", default=15)
LAG_WARNING_DAYS = env.int("QTS_LAG_WARNING_DAYS", default=30)

# Finished export files are kept this many days, then deleted by the beat task above.
EXPORT_RETENTION_DAYS = env.int("QTS_EXPORT_RETENTION_DAYS", default=7)

# Public report-number verification: lookups per client address per minute, complaints per hour.
REPORTS_VERIFY_PER_MINUTE = env.int("QTS_VERIFY_PER_MINUTE", default=30)
REPORTS_COMPLAINTS_PER_HOUR = env.int("QTS_COMPLAINTS_PER_HOUR", default=5)

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "accounts.validators.ChineseMinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# 忘记密码: a reset link e-mailed by Django's own views stays valid this many seconds (default 2 hours).
PASSWORD_RESET_TIMEOUT = env.int("QTS_PASSWORD_RESET_TIMEOUT", default=2 * 60 * 60)
# Reset requests per client address per hour (then HTTP 429); at most one e-mail per account per GAP seconds.
PASSWORD_RESETS_PER_HOUR = env.int("QTS_PASSWORD_RESETS_PER_HOUR", default=5)
PASSWORD_RESET_GAP = env.int("QTS_PASSWORD_RESET_GAP", default=5 * 60)
# 机构注册: the e-mailed confirmation link stays valid this many hours; registrations per client address per hour.
REGISTRATION_CONFIRM_HOURS = env.int("QTS_REGISTRATION_CONFIRM_HOURS", default=48)
REGISTRATIONS_PER_HOUR = env.int("QTS_REGISTRATIONS_PER_HOUR", default=5)
SESSION_COOKIE_AGE = 8 * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Login throttling: five failures for one user name from one address lock it for 30 minutes.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
# One answer to "who is the client" for axes and the public rate limits (accounts/clientip.py).
AXES_CLIENT_IP_CALLABLE = "accounts.clientip.client_ip"

# How many reverse proxies in front of the web server append to X-Forwarded-For (docker-compose.yml: 1, Caddy).
# 0 = the header is never trusted. AXES_PROXY_COUNT is the older name, still read.
TRUSTED_PROXY_COUNT = env.int("QTS_TRUSTED_PROXY_COUNT", default=env.int("AXES_PROXY_COUNT", default=0))
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("QTS_TRUSTED_PROXY_COUNT 不能为负数：填前置反向代理的层数，没有代理时填 0")

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
# Chinese names for third-party apps that ship none (django-axes).
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
# Front-end assets come from npm packages (package.json) and are served from this machine, never a CDN.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", BASE_DIR / "node_modules" / "bootstrap-icons" / "font"),
    ("vendor/echarts", BASE_DIR / "node_modules" / "echarts" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("QTS_MEDIA_ROOT", default=VAR_DIR / "media")

DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
# Widgets are rendered by the project's template engine, so templates/widgets/ (config/widgets.py) is found.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# E-mail: EMAIL_URL names the mail server, e.g. smtp+tls://user:password@smtp.example.gov.cn:587 (STARTTLS),
# smtp+ssl://…:465 (TLS from the start), smtp://host:25; user and password percent-encoded. Without it,
# DJANGO_EMAIL_BACKEND (default: print to the console). Production refuses the backends that deliver nothing.
EMAIL_BACKEND = env("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
if env("EMAIL_URL", default=""):
    vars().update({key: value for key, value in env.email_url("EMAIL_URL").items() if key.startswith("EMAIL_")})
EMAIL_TIMEOUT = env.int("DJANGO_EMAIL_TIMEOUT", default=20)  # seconds; a mail server that hangs must not hang a worker
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="质检统计直报 <noreply@localhost>")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": env("QTS_LOG_FORMAT", default="plain")},
    },
    "root": {"handlers": ["console"], "level": env("QTS_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # WeasyPrint and fontTools report every layout step at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
