import pytest
import redis
from django.conf import settings
from django.urls import reverse

from config.celery import ping


@pytest.mark.django_db
def test_healthz_reports_database_and_cache(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "ok"}


def test_the_suite_runs_on_real_postgresql_and_redis():
    from django.db import connection

    assert connection.vendor == "postgresql"
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    assert redis.Redis.from_url(settings.CACHES["default"]["LOCATION"]).ping()


@pytest.mark.worker
def test_a_task_round_trips_through_a_real_celery_worker(transactional_db, celery_worker_process):
    result = ping.delay()
    assert result.get(timeout=30) == "pong"
