from celery import shared_task

from . import sweeper


@shared_task(name="jobs.sweep_jobs")
def sweep_jobs():
    return sweeper.sweep()
