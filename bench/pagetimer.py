"""Shared by the page benchmarks: each page's best time over a few requests by its user, with its query count."""
import time
from urllib.parse import urlparse, urlunparse


def bench_database_url(url: str, suffix: str) -> str:
    """The benchmark's own database beside DATABASE_URL's: `<name>_bench_<suffix>`."""
    parts = urlparse(url)
    name = parts.path.lstrip("/") or "qts"
    return urlunparse(parts._replace(path=f"/{name}_bench_{suffix}"))


def time_pages(users: dict, pages: list, repeat: int) -> float:
    """`pages` are (user key, label, url) or (user key, label, url, before): `before()` runs ahead of each request
    (e.g. to clear a cache); prints each page's best time, query count (and size of a download); returns the worst
    of the best times in ms."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    clients = {}
    for key, user in users.items():
        clients[key] = Client()
        clients[key].force_login(user)
    worst = 0.0
    for key, label, url, *before in pages:
        times = []
        for _ in range(repeat):
            for step in before:
                step()
            with CaptureQueriesContext(connection) as queries:
                started = time.monotonic()
                response = clients[key].get(url)
                times.append(time.monotonic() - started)
            if response.status_code != 200:
                raise SystemExit(f"{label}: HTTP {response.status_code}")
        best = min(times) * 1000
        worst = max(worst, best)
        size = f", {len(response.content) / 1e6:.1f} MB" if response.has_header("Content-Disposition") else ""
        print(f"{label:<32} {best:8.0f} ms  {len(queries):3d} queries{size}")
    return worst
