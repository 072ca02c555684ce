from django.apps import AppConfig


class JobsConfig(AppConfig):
    """What every background job shares (exports, register imports, report-number uploads): the abstract model, its
    status view and list partial. It has no tables of its own."""

    name = "jobs"
    verbose_name = "后台任务"
