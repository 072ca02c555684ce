"""The embedded default (config.settings.test_embedded): SQLite in a file, Celery tasks in-process, local-memory cache,
loaded with the run command's demo data once per session. Tasks sent on commit run at once, inside the request that
sent them, as they do in `scripts/run.sh` with nothing set."""
import io

import pytest
from django.core.management import call_command
from django.db import transaction

DEMO_INSTITUTIONS = 40


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():  # one commit: SQLite syncs its file at every commit
        call_command("seed_demo", institutions=DEMO_INSTITUTIONS, seed=2023, stdout=io.StringIO())


@pytest.fixture(autouse=True)
def _embedded(db, on_commit_immediately):
    """Every test here reads the seeded database; what a view sends on commit runs in-process during the request."""


@pytest.fixture
def demo_user():
    from accounts.models import User

    return lambda username: User.objects.get(username=username)


@pytest.fixture
def login(client, demo_user):
    """login("city") -> the test client logged in as that demo account."""

    def log_in(username):
        client.force_login(demo_user(username))
        return client

    return log_in
