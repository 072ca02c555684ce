from django.apps import AppConfig


class PortalHelpConfig(AppConfig):
    name = "portalhelp"
    verbose_name = "系统帮助"
