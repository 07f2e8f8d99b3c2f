"""The deploy files, checked as far as this machine allows (no Docker engine): the compose file
by docker-compose itself and by reading it, the Dockerfile's sources, Prometheus' configuration
and alert rules by promtool (check and unit tests), Grafana's provisioning."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from aftersales.config import DEFAULT_PORTS
from aftersales.registry import SERVICES

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def _tool(name):
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (make test installs it when allowed)")
    return path


def test_docker_compose_validates_the_file():
    exe = shutil.which("docker-compose")
    cmd = [exe, "config", "-q"] if exe else None
    if cmd is None:
        if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode != 0:
            pytest.skip("no docker compose to validate with")
        cmd = ["docker", "compose", "config", "-q"]
    run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr


def test_compose_runs_every_service_on_its_own_database_and_port():
    services = COMPOSE["services"]
    for name in ("rabbitmq", "postgres", "prometheus", "grafana", *SERVICES):
        assert name in services, f"{name} missing from docker-compose.yml"
    init = (ROOT / "deploy/postgres/init-databases.sql").read_text()
    for name in SERVICES:
        svc = services[name]
        port = DEFAULT_PORTS[name]
        assert f"{port}:{port}" in svc["ports"]
        env = svc["environment"]
        assert env[f"{name.upper()}_HTTP"] == f"0.0.0.0:{port}"
        url = env[f"{name.upper()}_DATABASE_URL"]
        assert url.endswith(f"/aftersales_{name}"), url
        assert f"CREATE DATABASE aftersales_{name} " in init
        assert svc["command"] == ["run", name]
        assert str(port) in " ".join(svc["healthcheck"]["test"])
    assert "15672:15672" in services["rabbitmq"]["ports"]   # management UI


def test_every_mounted_path_exists():
    for name, svc in COMPOSE["services"].items():
        for vol in svc.get("volumes", []):
            host = vol.split(":")[0]
            if host.startswith("."):
                assert (ROOT / host).exists(), f"{name} mounts missing {host}"


def test_dockerfile_copies_only_what_exists_and_runs_the_cli():
    text = (ROOT / "Dockerfile").read_text()
    copies = re.findall(r"^COPY\s+(.+)$", text, re.M)
    assert copies
    for line in copies:
        *sources, _dest = line.split()
        for src in sources:
            assert (ROOT / src).exists(), f"COPY {src}: no such path"
    assert 'ENTRYPOINT ["python", "-m", "aftersales"]' in text
    assert re.search(r"^USER\s+\w+", text, re.M), "the image should not run as root"


def test_prometheus_scrapes_exactly_the_four_services():
    conf = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    targets = {t for job in conf["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]}
    assert targets == {f"{name}:{DEFAULT_PORTS[name]}" for name in SERVICES}


def test_promtool_checks_the_configuration_and_rules():
    promtool = _tool("promtool")
    run = subprocess.run([promtool, "check", "config", "--syntax-only",
                          "deploy/prometheus/prometheus.yml"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    rules = sorted((ROOT / "deploy/prometheus/rules").glob("*.yml"))
    assert rules
    run = subprocess.run([promtool, "check", "rules", *map(str, rules)], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_promtool_unit_tests_of_every_alert():
    promtool = _tool("promtool")
    tests = sorted((ROOT / "deploy/prometheus/tests").glob("*_test.yml"))
    run = subprocess.run([promtool, "test", "rules", *map(str, tests)], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    # every alert has a test that names it
    alerts = set()
    for f in (ROOT / "deploy/prometheus/rules").glob("*.yml"):
        for group in yaml.safe_load(f.read_text())["groups"]:
            alerts |= {r["alert"] for r in group["rules"] if "alert" in r}
    tested = set(re.findall(r"alertname:\s*(\w+)", "".join(t.read_text() for t in tests)))
    assert alerts <= tested, f"alerts without a promtool test: {sorted(alerts - tested)}"


def test_grafana_dashboards_use_the_provisioned_datasource():
    ds = yaml.safe_load((ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text())
    uid = ds["datasources"][0]["uid"]
    dashboards = list((ROOT / "deploy/grafana/dashboards").glob("*.json"))
    assert dashboards
    for path in dashboards:
        dash = json.loads(path.read_text(encoding="utf-8"))
        for panel in dash["panels"]:
            if "datasource" in panel:
                assert panel["datasource"]["uid"] == uid, f"{path.name}: {panel['title']}"


def test_the_two_commands_are_wired():
    ci = (ROOT / ".ci/run").read_text()
    assert "make test" in ci
    make = (ROOT / "Makefile").read_text()
    for target in ("run", "test", "demo", "help"):
        assert re.search(rf"^{target}:", make, re.M), f"Makefile has no {target} target"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme and "make test" in readme


def test_dashboards_are_generated_from_their_source():
    import importlib.util
    spec = importlib.util.spec_from_file_location("dashboards", ROOT / "deploy/grafana/dashboards.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for filename, text in mod.render().items():
        path = ROOT / "deploy/grafana/dashboards" / filename
        assert path.read_text(encoding="utf-8") == text, f"{filename} is stale: run deploy/grafana/dashboards.py"
    on_disk = {p.name for p in (ROOT / "deploy/grafana/dashboards").glob("*.json")}
    assert on_disk == set(mod.render()), "a dashboard file is not generated"
