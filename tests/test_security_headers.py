"""Security headers: the Content-Security-Policy (django-csp, ADR 0031) on every response, and under the production
settings the policy with HSTS, nosniff, the referrer and opener policies and framing refused. Templates hold nothing
the policy refuses: no inline script, no on…= handler, no javascript: URL, no style attribute."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "style-src-attr": "'unsafe-hashes' 'sha256-XMXSevYjgSjXgRafBFDvtjwX+yyWLrxfso9DcNZ9UXM='",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}
# A request the production settings answer, as the proxy forwards it (HTTPS, the portal's host name). The health
# check: a page would need collectstatic's manifest, and the headers come from middleware that treats them alike.
PRODUCTION_REQUEST = (
    "import json, django; django.setup(); from django.test import Client;"
    "response = Client().get('/healthz/', secure=True, headers={'host': 'portal.example.gov.cn'});"
    "print(json.dumps({'status': response.status_code, **response.headers}))"
)


def directives(header: str) -> dict:
    """The policy as {directive: its sources}, in the order the header gives them."""
    return dict([*part.strip().split(" ", 1), ""][:2] for part in header.split(";") if part.strip())


def production_response(**env) -> dict:
    """The health check's status and headers under config.settings.production, on the test database."""
    db = connection.settings_dict
    environment = {
        **{key: value for key, value in os.environ.items() if key not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")},
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "k" * 20 + "-a-long-random-production-secret-with-entropy-9f8e7d6c5b4a",
        "DJANGO_ALLOWED_HOSTS": "portal.example.gov.cn",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "EMAIL_URL": "smtp+tls://portal:secret@smtp.example.gov.cn:587",
        "DJANGO_DEFAULT_FROM_EMAIL": "质检统计直报 <noreply@portal.example.gov.cn>",
        **env,
    }
    result = subprocess.run([sys.executable, "-c", PRODUCTION_REQUEST], cwd=ROOT, env=environment,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.django_db
def test_every_page_carries_the_policy(client):
    response = client.get(reverse("login"))
    assert directives(response["Content-Security-Policy"]) == POLICY


@pytest.mark.django_db
def test_the_policy_allows_no_inline_script_or_style_and_no_eval(client):
    policy = directives(client.get(reverse("login"))["Content-Security-Policy"])
    for directive in ("default-src", "script-src", "style-src"):
        assert "unsafe-inline" not in policy[directive] and "unsafe-eval" not in policy[directive], directive
    # Style attributes: only the listed hashes, never 'unsafe-inline'.
    assert "unsafe-inline" not in policy["style-src-attr"]


@pytest.mark.django_db(transaction=True)
def test_production_sends_the_policy_and_the_security_headers():
    response = production_response()
    assert response["status"] == 200
    assert directives(response["Content-Security-Policy"]) == {**POLICY, "upgrade-insecure-requests": ""}
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.django_db(transaction=True)
def test_production_reports_violations_where_the_operator_says():
    response = production_response(QTS_CSP_REPORT_URI="https://csp.example.gov.cn/report")
    assert directives(response["Content-Security-Policy"])["report-uri"] == "https://csp.example.gov.cn/report"


def test_the_proxy_sets_no_policy_of_its_own():
    """One policy, Django's: a second one from Caddy would apply on top and could only be stricter or out of date."""
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text(encoding="utf-8")
    assert "content-security-policy" not in caddyfile.lower()


# What a template must not hold. PDF templates are excluded: WeasyPrint renders them on the server.
REFUSED = {
    "inline <script>": re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I),
    "on…= handler": re.compile(r"<[^>]*\son[a-z]+\s*=", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
    "style attribute": re.compile(r"<[^>]*\sstyle\s*=", re.I),
    "<style> element": re.compile(r"<style[\s>]", re.I),
}


def test_no_template_holds_what_the_policy_refuses():
    found = []
    for path in sorted([*ROOT.glob("templates/**/*.html"), *ROOT.glob("*/templates/**/*.html")]):
        if "pdf" in path.relative_to(ROOT).parts:
            continue
        text = path.read_text(encoding="utf-8")
        for what, pattern in REFUSED.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert found == [], "\n".join(found)
