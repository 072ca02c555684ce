"""A developer's or newcomer's machine: debug pages and demo data allowed, embedded defaults unless told otherwise."""
from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
DEMO_MODE = env.bool("QTS_DEMO_MODE", default=True)
