"""Settings that differ by environment: production passes check --deploy; the embedded default needs no services."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent


def _clean_env(**env):
    drop = ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    return {**{k: v for k, v in os.environ.items() if k not in drop}, **env}


def _run(code, **env):
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=_clean_env(**env), capture_output=True, text=True, timeout=120
    )


def test_production_settings_pass_check_deploy_with_no_warnings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_clean_env(
            DJANGO_SETTINGS_MODULE="config.settings.production",
            DJANGO_SECRET_KEY="k" * 20 + "-a-long-random-production-secret-with-entropy-9f8e7d6c5b4a",
            DJANGO_ALLOWED_HOSTS="portal.example.gov.cn",
            DATABASE_URL="postgres://qts@db.internal:5432/qts",
            REDIS_URL="redis://redis.internal:6379/0",
            EMAIL_URL="smtp+tls://portal:secret@smtp.example.gov.cn:587",
            DJANGO_DEFAULT_FROM_EMAIL="质检统计直报 <noreply@portal.example.gov.cn>",
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    result = _run(
        "import django; django.setup()",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_ALLOWED_HOSTS="portal.example.gov.cn",
    )
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr


PRODUCTION = dict(
    DJANGO_SETTINGS_MODULE="config.settings.production",
    DJANGO_SECRET_KEY="k" * 60,
    DJANGO_ALLOWED_HOSTS="portal.example.gov.cn",
    DJANGO_DEFAULT_FROM_EMAIL="noreply@portal.example.gov.cn",
    DATABASE_URL="postgres://qts@db.internal:5432/qts",
    REDIS_URL="redis://redis.internal:6379/0",
)
EMAIL_SETTINGS = (
    "import json, django; django.setup(); from django.conf import settings as s;"
    "print(json.dumps({k: getattr(s, k) for k in ('EMAIL_BACKEND', 'EMAIL_HOST', 'EMAIL_PORT', 'EMAIL_HOST_USER',"
    " 'EMAIL_HOST_PASSWORD', 'EMAIL_USE_TLS', 'EMAIL_USE_SSL', 'DEFAULT_FROM_EMAIL', 'SERVER_EMAIL')}))"
)


def test_email_url_configures_the_smtp_server_with_starttls():
    result = _run(EMAIL_SETTINGS, **PRODUCTION, EMAIL_URL="smtp+tls://stats%40hn.gov.cn:p%40ss:w0rd@smtp.example.gov.cn:587")
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout.strip().splitlines()[-1])
    assert got["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (got["EMAIL_HOST"], got["EMAIL_PORT"]) == ("smtp.example.gov.cn", 587)
    assert (got["EMAIL_HOST_USER"], got["EMAIL_HOST_PASSWORD"]) == ("stats@hn.gov.cn", "p@ss:w0rd")
    assert got["EMAIL_USE_TLS"] is True and got["EMAIL_USE_SSL"] is False
    assert got["DEFAULT_FROM_EMAIL"] == got["SERVER_EMAIL"] == "noreply@portal.example.gov.cn"


def test_email_url_with_implicit_tls():
    result = _run(EMAIL_SETTINGS, **PRODUCTION, EMAIL_URL="smtp+ssl://smtp.example.gov.cn:465")
    got = json.loads(result.stdout.strip().splitlines()[-1])
    assert got["EMAIL_PORT"] == 465 and got["EMAIL_USE_SSL"] is True and got["EMAIL_USE_TLS"] is False


@pytest.mark.parametrize(
    "mail",
    [
        {},  # nothing set: the console backend
        {"EMAIL_URL": "consolemail://"},
        {"EMAIL_URL": "memorymail://"},
        {"DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"},
    ],
)
def test_production_refuses_to_start_with_a_backend_that_delivers_nothing(mail):
    result = _run("import django; django.setup()", **PRODUCTION, **mail)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "请设置 EMAIL_URL" in result.stderr


def test_production_requires_a_sender_address():
    env = {k: v for k, v in PRODUCTION.items() if k != "DJANGO_DEFAULT_FROM_EMAIL"}
    result = _run("import django; django.setup()", **env, EMAIL_URL="smtp://smtp.example.gov.cn:25")
    assert result.returncode != 0 and "DJANGO_DEFAULT_FROM_EMAIL" in result.stderr


@pytest.mark.parametrize(
    "service, value, says",
    [
        ("DATABASE_URL", "", "请设置 DATABASE_URL"),
        ("DATABASE_URL", "sqlite:////tmp/qts.sqlite3", "必须使用 PostgreSQL"),
        ("REDIS_URL", "", "请设置 REDIS_URL"),
    ],
)
def test_production_refuses_the_embedded_default(service, value, says):
    result = _run("import django; django.setup()", **{**PRODUCTION, service: value}, EMAIL_URL="smtp://smtp.example.gov.cn:25")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and says in result.stderr


def test_a_negative_proxy_count_is_refused():
    result = _run(
        "import django; django.setup()", DJANGO_SETTINGS_MODULE="config.settings.local", QTS_TRUSTED_PROXY_COUNT="-1"
    )
    assert result.returncode != 0 and "QTS_TRUSTED_PROXY_COUNT" in result.stderr


@pytest.mark.parametrize("variable", ["QTS_TRUSTED_PROXY_COUNT", "AXES_PROXY_COUNT"])
def test_the_proxy_count_is_read_under_its_name_and_its_older_alias(variable):
    code = "import django; django.setup(); from django.conf import settings as s; print(s.TRUSTED_PROXY_COUNT)"
    result = _run(code, DJANGO_SETTINGS_MODULE="config.settings.local", **{variable: "2"})
    assert result.stdout.strip().splitlines()[-1] == "2"


def test_embedded_default_is_sqlite_with_in_process_tasks():
    code = (
        "import json, django; django.setup(); from django.conf import settings as s;"
        "print(json.dumps([s.DATABASES['default']['ENGINE'], str(s.DATABASES['default']['NAME']),"
        " s.CELERY_TASK_ALWAYS_EAGER, s.CACHES['default']['BACKEND']]))"
    )
    result = _run(code, DJANGO_SETTINGS_MODULE="config.settings.local")
    engine, name, eager, cache = json.loads(result.stdout.strip().splitlines()[-1])
    assert engine.endswith("sqlite3") and name.endswith("var/db.sqlite3")
    assert eager is True and cache.endswith("LocMemCache")


@pytest.mark.parametrize(
    "url, engine, name",
    [
        ("sqlite:////tmp/qts-demo.sqlite3", "sqlite3", "/tmp/qts-demo.sqlite3"),
        ("postgres://postgres@127.0.0.1:5432/qts_other", "postgresql", "qts_other"),
    ],
)
def test_database_url_forms(url, engine, name):
    code = (
        "import json, django; django.setup(); from django.conf import settings as s;"
        "print(json.dumps([s.DATABASES['default']['ENGINE'], str(s.DATABASES['default']['NAME']),"
        " s.CELERY_TASK_ALWAYS_EAGER]))"
    )
    result = _run(code, DJANGO_SETTINGS_MODULE="config.settings.local", DATABASE_URL=url, REDIS_URL="redis://127.0.0.1:6379/3")
    got_engine, got_name, eager = json.loads(result.stdout.strip().splitlines()[-1])
    assert got_engine.endswith(engine) and got_name == name and eager is False


@pytest.mark.django_db
def test_no_missing_migrations():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_check_services_names_the_unreachable_service():
    result = _run(
        "import runpy; runpy.run_path('scripts/check_services.py')",
        DATABASE_URL="postgres://postgres@127.0.0.1:1/qts",
        REDIS_URL="redis://127.0.0.1:1/0",
    )
    assert result.returncode == 1
    assert "PostgreSQL 无法连接" in result.stderr and "Redis 无法连接" in result.stderr
