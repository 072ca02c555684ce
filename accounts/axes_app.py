"""django-axes under a Chinese name in the admin. Subclassing a third-party app's AppConfig and naming the subclass in
INSTALLED_APPS is Django's documented way to rename it; the app label stays "axes". Its models' and fields' names are
translated in locale/zh_Hans (django-axes ships no Simplified Chinese catalogue)."""
from axes.apps import AppConfig


class LoginProtectionConfig(AppConfig):
    verbose_name = "登录保护"
