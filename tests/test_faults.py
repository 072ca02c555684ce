"""Faults survived (issue 15 §4), the cases of bench/faults.py as tests: each starts the real services privately (its
own PostgreSQL cluster, Redis, gunicorn and Celery worker processes — never the machine's shared ones), injects one
fault and checks what users see and what is stored. The interrupted upload has 200,000 lines here (several segments
and a retried transaction; the benchmark's default is 1,000,000)."""
import importlib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
faults = importlib.import_module("faults")

pytestmark = pytest.mark.faults
UPLOAD_LINES = 200_000


@pytest.fixture(scope="module")
def stack():
    with faults.Stack() as stack:
        yield stack


def _survived(outcome):
    assert outcome.survived and outcome.lost == 0, "\n".join(outcome.notes)


def test_with_redis_stopped_logins_saves_lookups_and_reminders_work_and_the_queue_catches_up_once_it_is_back(stack):
    _survived(faults.redis_stopped(stack))


def test_a_postgresql_restart_during_an_upload_stores_every_number_once(stack):
    _survived(faults.postgres_restarted(stack, lines=UPLOAD_LINES))


def test_a_killed_worker_leaves_no_half_job_done_and_each_job_finishes_after_retry(stack):
    _survived(faults.worker_killed(stack))


def test_the_job_of_a_killed_pool_process_runs_again_by_itself(stack):
    _survived(faults.pool_process_killed(stack))


def test_a_full_disk_fails_the_export_in_chinese_and_offers_no_file(stack):
    _survived(faults.disk_full(stack))


def test_two_web_servers_deciding_the_same_filing_record_exactly_one_decision(stack):
    _survived(faults.two_web_servers(stack))
