"""The deployment described by docker-compose.yml, the Dockerfile and .dockerignore holds together: TLS ends at the
proxy, gunicorn is not published, exactly one beat, no root, and the production settings start with the environment
the compose file gives them. Checked with `docker compose config` where the compose plugin exists, and always by
reading the YAML (no Docker engine is needed)."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
APP_SERVICES = ("migrate", "web", "worker", "beat")
DEPLOYER = {  # what a deployer sets (README → Production)
    "QTS_DOMAIN": "portal.example.gov.cn",
    "DJANGO_SECRET_KEY": "s" * 20 + "-a-long-random-production-secret-with-entropy-1a2b3c4d5e6f",
    "POSTGRES_PASSWORD": "pg-secret",
    "EMAIL_URL": "smtp+tls://portal:secret@smtp.example.gov.cn:587",
    "DJANGO_DEFAULT_FROM_EMAIL": "质检统计直报 <noreply@portal.example.gov.cn>",
}
VARIABLE = re.compile(r"\$\{(\w+)(?:(:[-?])([^}]*))?\}")


def interpolate(text: str, env: dict) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} substitution."""
    def substitute(match):
        name, operator, argument = match.groups()
        if env.get(name):
            return env[name]
        if operator == ":?":
            raise KeyError(f"{name}: {argument}")
        return argument if operator == ":-" else ""
    return VARIABLE.sub(substitute, text)


def compose(env=DEPLOYER) -> dict:
    return yaml.safe_load(interpolate(COMPOSE.read_text(encoding="utf-8"), env))


def environment(service: dict) -> dict:
    values = service.get("environment", {})
    if isinstance(values, list):
        values = dict(item.split("=", 1) for item in values)
    return {key: str(value) for key, value in values.items()}


def command(service: dict) -> str:
    value = service.get("command", "")
    return " ".join(value) if isinstance(value, list) else value


def test_docker_compose_config_accepts_the_file_where_the_compose_plugin_exists():
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        # No compose plugin on this machine: the YAML checks below stand in for it.
        assert compose()["services"]
        return
    result = subprocess.run([docker, "compose", "-f", str(COMPOSE), "config", "-q"], cwd=ROOT, capture_output=True,
                            text=True, env={"PATH": "/usr/bin:/bin:/usr/local/bin", **DEPLOYER}, timeout=60)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("missing", sorted(DEPLOYER))
def test_compose_refuses_to_start_without_each_setting_the_deployer_must_give(missing):
    with pytest.raises(KeyError, match=missing):
        compose({key: value for key, value in DEPLOYER.items() if key != missing})


def test_tls_ends_at_the_proxy_and_gunicorn_is_not_published():
    services = compose()["services"]
    assert set(services) >= {"db", "redis", "proxy", *APP_SERVICES}
    proxy = services["proxy"]
    assert proxy["image"].startswith("caddy:")
    published = {str(port).split(":")[-2] if str(port).count(":") else str(port) for port in proxy["ports"]}
    assert {"80", "443"} <= published
    assert any(volume.startswith("./deploy/Caddyfile:") for volume in proxy["volumes"])
    for name, service in services.items():
        if name != "proxy":
            assert "ports" not in service, f"{name} must not be published"
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text(encoding="utf-8")
    assert re.search(r"^\s*reverse_proxy\s+web:8000\b", caddyfile, re.M)
    assert "--bind 0.0.0.0:8000" in command(services["web"])


def test_the_app_trusts_exactly_the_one_proxy_and_migrates_once_before_starting():
    services = compose()["services"]
    for name in APP_SERVICES:
        env = environment(services[name])
        assert env["QTS_TRUSTED_PROXY_COUNT"] == "1", name
        assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.production", name
    assert "migrate" in command(services["migrate"])
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_exactly_one_celery_beat():
    services = compose()["services"]
    beats = [name for name, service in services.items() if re.search(r"\bcelery\b.*\bbeat\b", command(service))]
    assert beats == ["beat"]
    assert not re.search(r"(^|\s)(-B|--beat)(\s|$)", command(services["worker"]))
    assert services["beat"].get("deploy", {}).get("replicas", 1) == 1


def test_no_service_of_ours_runs_as_root():
    services = compose()["services"]
    for name in APP_SERVICES:
        assert str(services[name].get("user", "")) not in {"root", "0", "0:0"}, name
    users = re.findall(r"^USER\s+(\S+)", (ROOT / "Dockerfile").read_text(encoding="utf-8"), re.M)
    assert users and users[-1] not in {"root", "0", "0:0"}


def test_production_settings_start_with_the_environment_compose_gives(tmp_path):
    env = environment(compose()["services"]["web"])
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **env, "QTS_MEDIA_ROOT": str(tmp_path)},
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", [".venv", "node_modules", "var", ".git", ".env"])
def test_dockerignore_keeps_local_state_out_of_the_image(path):
    patterns = {line.strip().rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")}
    assert path in patterns


@pytest.mark.parametrize("tls", ["internal", "admin@example.gov.cn", "own-certificate"])
def test_caddy_accepts_the_caddyfile_for_each_kind_of_certificate(tmp_path, tls):
    if tls == "own-certificate":
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                        "/CN=portal.example.gov.cn", "-keyout", str(tmp_path / "portal.key"),
                        "-out", str(tmp_path / "portal.crt")], check=True, capture_output=True)
        tls = f"{tmp_path / 'portal.crt'} {tmp_path / 'portal.key'}"
    result = subprocess.run(
        ["caddy", "validate", "--adapter", "caddyfile", "--config", str(ROOT / "deploy" / "Caddyfile")],
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"),
             "XDG_CONFIG_HOME": str(tmp_path / "config"), "QTS_DOMAIN": "portal.example.gov.cn", "QTS_TLS": tls},
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0 and "Valid configuration" in result.stdout + result.stderr, result.stderr
