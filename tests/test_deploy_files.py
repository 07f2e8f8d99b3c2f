"""The deploy files and the two-command setup, checked as far as a machine without a Docker
engine allows: docker-compose.yml by docker compose itself (`config`, when a compose is
installed: `make test` installs Debian's docker-compose) and by reading it; the Dockerfile's
sources and entrypoint; Prometheus' configuration and alert rules by promtool (check and unit
tests); Grafana's provisioning and dashboards; the Makefile, the scripts and .ci/run.

A tool that is missing skips its test locally and fails it under CI (CI set), like the
PostgreSQL tests."""
from __future__ import annotations

import fnmatch
import json
import os
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
PROMETHEUS_YML = ROOT / "deploy/prometheus/prometheus.yml"
GRAFANA = ROOT / "deploy/grafana"
DATASOURCES = GRAFANA / "provisioning/datasources/prometheus.yml"
DASHBOARD_PROVIDERS = GRAFANA / "provisioning/dashboards/aftersales.yml"
MAKE_TARGETS = ("help", "venv", "broker", "run", "test", "test-unit", "demo", "bench", "docs", "clean")


def _missing(what: str):
    if os.environ.get("CI"):
        pytest.fail(f"{what} is not installed (scripts/ensure-test-tools.sh installs it)", pytrace=False)
    pytest.skip(f"{what} is not installed (make test installs it when allowed)")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        _missing(name)
    return path


def _compose_command() -> list[str]:
    """`docker compose` (v2 plugin) when it answers, else `docker-compose` (v1)."""
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"],
                                                  capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return [shutil.which("docker-compose")]
    _missing("docker compose / docker-compose")


def _mounts(service: str) -> dict[str, str]:
    """container path -> host path of a compose service's bind mounts."""
    out = {}
    for vol in COMPOSE["services"][service].get("volumes", []):
        host, container, *_ = vol.split(":")
        out[container] = host
    return out


def _env(service: str) -> dict[str, str]:
    return {k: str(v) for k, v in COMPOSE["services"][service].get("environment", {}).items()}


# -- docker-compose.yml ---------------------------------------------------------------------

def test_docker_compose_validates_the_file():
    cmd = _compose_command()
    env = {**os.environ, "AFTERSALES_SECRET": "test-secret"}
    run = subprocess.run([*cmd, "config", "-q"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    # what compose itself resolves (anchors, merges, interpolation) runs each service on its port
    run = subprocess.run([*cmd, "config"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env=env)
    resolved = yaml.safe_load(run.stdout)["services"]
    for name in SERVICES:
        assert resolved[name]["environment"][f"{name.upper()}_HTTP"] == f"0.0.0.0:{DEFAULT_PORTS[name]}"
        assert resolved[name]["environment"]["AFTERSALES_SECRET"] == "test-secret"


def test_compose_has_the_whole_platform():
    services = COMPOSE["services"]
    for name in ("rabbitmq", "postgres", "seed", "prometheus", "grafana", *SERVICES):
        assert name in services, f"{name} missing from docker-compose.yml"
    rabbit = services["rabbitmq"]
    assert rabbit["image"].startswith("rabbitmq:3") and rabbit["image"].endswith("management")
    assert "15672:15672" in rabbit["ports"] and "5672:5672" in rabbit["ports"]
    assert services["postgres"]["image"] == "postgres:15"
    for name in ("rabbitmq", "postgres"):
        assert services[name]["healthcheck"]["test"], f"{name} needs a healthcheck"


def test_each_service_has_its_own_database_port_and_healthcheck():
    services = COMPOSE["services"]
    pg_env = _env("postgres")
    init = (ROOT / "deploy/postgres/init-databases.sql").read_text(encoding="utf-8")
    for name in SERVICES:
        svc, env, port = services[name], _env(name), DEFAULT_PORTS[name]
        assert svc["command"] == ["run", name]
        assert f"{port}:{port}" in svc["ports"]
        assert env[f"{name.upper()}_HTTP"] == f"0.0.0.0:{port}"
        assert env["AMQP_URI"].startswith("pyamqp://") and "@rabbitmq:5672/" in env["AMQP_URI"]
        assert env.get("AFTERSALES_SECRET"), f"{name}: AFTERSALES_SECRET"
        url = env[f"{name.upper()}_DATABASE_URL"]
        db = f"aftersales_{name}"
        assert url == (f"postgresql://{pg_env['POSTGRES_USER']}:{pg_env['POSTGRES_PASSWORD']}"
                       f"@postgres:5432/{db}"), url
        assert re.search(rf"^CREATE DATABASE {db}\b", init, re.M), f"init script does not create {db}"
        others = {f"{o.upper()}_DATABASE_URL" for o in SERVICES if o != name}
        assert not others & set(env), f"{name} can see another service's database: {others & set(env)}"
        health = " ".join(svc["healthcheck"]["test"])
        assert f":{port}/health" in health, health
        deps = svc["depends_on"]
        assert deps["rabbitmq"]["condition"] == "service_healthy"
        assert deps["postgres"]["condition"] == "service_healthy"
        assert deps["seed"]["condition"] == "service_completed_successfully"
    assert _mounts("postgres")["/docker-entrypoint-initdb.d/init-databases.sql"] == \
        "./deploy/postgres/init-databases.sql"


def test_seed_loads_every_database_once():
    seed = COMPOSE["services"]["seed"]
    assert seed["command"] == ["seed", "--if-empty"]
    assert seed.get("restart") == "no"
    env = _env("seed")
    for name in SERVICES:
        assert env[f"{name.upper()}_DATABASE_URL"] == _env(name)[f"{name.upper()}_DATABASE_URL"]


def test_every_mounted_path_and_build_context_exists():
    declared = set(COMPOSE.get("volumes") or {})
    for name, svc in COMPOSE["services"].items():
        for vol in svc.get("volumes", []):
            host = vol.split(":")[0]
            if host.startswith((".", "/")):
                assert (ROOT / host).exists(), f"{name} mounts {host}, which is not in the repository"
            else:
                assert host in declared, f"{name} uses volume {host}, not declared under volumes:"
        build = svc.get("build")
        if build:
            context = build if isinstance(build, str) else build.get("context", ".")
            assert (ROOT / context / "Dockerfile").exists()


# -- Dockerfile -----------------------------------------------------------------------------

def _dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instr, _, args = line.partition(" ")
            out.append((instr.upper(), args.strip()))
    return out


def _dockerignore() -> list[str]:
    path = ROOT / ".dockerignore"
    if not path.exists():
        return []
    return [p.strip().rstrip("/") for p in path.read_text().splitlines() if p.strip() and not p.startswith("#")]


def test_dockerfile_copies_only_what_exists():
    copies = [args for instr, args in _dockerfile() if instr in ("COPY", "ADD")]
    assert copies
    ignored = _dockerignore()
    for args in copies:
        words = json.loads(args) if args.startswith("[") else args.split()
        sources = [w for w in words[:-1] if not w.startswith("--")]
        assert sources, args
        for src in sources:
            assert (ROOT / src).exists(), f"COPY {src}: no such path in the repository"
            for pattern in ignored:
                assert not fnmatch.fnmatch(src.rstrip("/"), pattern.lstrip("/")), \
                    f"COPY {src}: excluded by .dockerignore ({pattern})"


def test_dockerfile_builds_a_non_root_python_311_image():
    steps = _dockerfile()
    assert steps[0] == ("FROM", "python:3.11-slim")
    order = [f"{i} {a}" for i, a in steps]
    req = next(n for n, s in enumerate(order) if "pip install" in s and "requirements.txt" in s)
    pkg = next(n for n, s in enumerate(order) if s.startswith("COPY aftersales"))
    assert req < pkg, "install the pinned requirements before copying the code (layer cache)"
    users = [a for i, a in steps if i == "USER"]
    assert users and users[-1] not in ("root", "0"), "the image should not run as root"
    entrypoint = json.loads(next(a for i, a in steps if i == "ENTRYPOINT"))
    assert entrypoint == ["aftersales-entrypoint"]
    assert any(i == "COPY" and a.split()[-1] == "/usr/local/bin/aftersales-entrypoint" for i, a in steps)


@pytest.mark.parametrize("args, env, expected", [
    ([], {}, ["-m aftersales run intake"]),
    ([], {"AFTERSALES_SERVICE": "parts"}, ["-m aftersales run parts"]),
    (["dispatch"], {"AFTERSALES_SERVICE": "parts"}, ["-m aftersales run dispatch"]),
    (["run", "feedback"], {}, ["-m aftersales run feedback"]),
    (["seed", "--if-empty"], {}, ["-m aftersales seed --if-empty"]),
    (["feedback"], {"AFTERSALES_SEED_ON_START": "1"},
     ["-m aftersales seed --if-empty feedback", "-m aftersales run feedback"]),
])
def test_the_image_runs_the_service_chosen_by_argument_or_environment(tmp_path, args, env, expected):
    """deploy/docker/entrypoint.sh with a stand-in `python` that records how it was called."""
    log = tmp_path / "calls"
    fake = tmp_path / "python"
    fake.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\n')
    fake.chmod(0o755)
    run = subprocess.run(["/bin/sh", str(ROOT / "deploy/docker/entrypoint.sh"), *args],
                         env={"PATH": f"{tmp_path}:/usr/bin:/bin", **env},
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    assert log.read_text().splitlines() == expected


# -- Prometheus -----------------------------------------------------------------------------

def test_prometheus_scrapes_exactly_the_services():
    conf = yaml.safe_load(PROMETHEUS_YML.read_text())
    targets = set()
    for job in conf["scrape_configs"]:
        assert job.get("metrics_path", "/metrics") == "/metrics"
        targets |= {t for sc in job["static_configs"] for t in sc["targets"]}
    assert targets == {f"{name}:{DEFAULT_PORTS[name]}" for name in SERVICES}
    # the configuration and rules are mounted where prometheus.yml says
    mounts = _mounts("prometheus")
    assert mounts["/etc/prometheus/prometheus.yml"] == "./deploy/prometheus/prometheus.yml"
    for pattern in conf.get("rule_files", []):
        directory, glob = pattern.rsplit("/", 1)
        assert directory in mounts, f"rule_files {pattern}: {directory} is not mounted"
        assert list((ROOT / mounts[directory]).glob(glob)), f"no rule files for {pattern}"


def test_promtool_checks_the_configuration_and_rules(tmp_path):
    promtool = _tool("promtool")
    # the configuration as the container sees it: rule_files point at the repository's rules
    conf = yaml.safe_load(PROMETHEUS_YML.read_text())
    mounts = _mounts("prometheus")
    conf["rule_files"] = [str(ROOT / mounts[p.rsplit("/", 1)[0]] / p.rsplit("/", 1)[1])
                          for p in conf.get("rule_files", [])]
    local = tmp_path / "prometheus.yml"
    local.write_text(yaml.safe_dump(conf))
    run = subprocess.run([promtool, "check", "config", str(local)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    run = subprocess.run([promtool, "check", "config", "--syntax-only", str(PROMETHEUS_YML)],
                         capture_output=True, text=True)
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


# -- Grafana --------------------------------------------------------------------------------

def _datasource_uid() -> str:
    ds = yaml.safe_load(DATASOURCES.read_text())["datasources"]
    assert len(ds) == 1
    return ds[0]["uid"]


def test_grafana_provisioning_matches_the_compose_mounts():
    mounts = _mounts("grafana")
    assert mounts["/etc/grafana/provisioning"] == "./deploy/grafana/provisioning"
    ds = yaml.safe_load(DATASOURCES.read_text())["datasources"][0]
    assert ds["uid"] == "prometheus" and ds["type"] == "prometheus"
    assert ds["url"] == "http://prometheus:9090" and "9090:9090" in COMPOSE["services"]["prometheus"]["ports"]
    providers = yaml.safe_load(DASHBOARD_PROVIDERS.read_text())["providers"]
    for provider in providers:
        path = provider["options"]["path"]
        assert mounts.get(path) == "./deploy/grafana/dashboards", \
            f"dashboard provider reads {path}, which is not where the dashboards are mounted"
    home = _env("grafana").get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
    if home:
        directory, filename = home.rsplit("/", 1)
        assert (ROOT / mounts[directory] / filename).exists(), home


def _exprs(panel) -> list[str]:
    return [t.get("expr", "") for t in panel.get("targets", [])]


def test_grafana_dashboards_use_the_provisioned_datasource():
    uid = _datasource_uid()
    dashboards = list((GRAFANA / "dashboards").glob("*.json"))
    assert dashboards
    for path in dashboards:
        dash = json.loads(path.read_text(encoding="utf-8"))
        assert dash["uid"] and dash["title"]
        for panel in dash["panels"]:
            for thing in (panel, *panel.get("targets", [])):
                if "datasource" in thing:
                    assert thing["datasource"]["uid"] == uid, f"{path.name}: {panel['title']}"


def test_the_service_health_dashboard_shows_the_platform_vitals():
    dash = json.loads((GRAFANA / "dashboards/service-health.json").read_text(encoding="utf-8"))
    assert "service health" in dash["title"].lower()
    exprs = [e for p in dash["panels"] for e in _exprs(p)]
    assert any(re.match(r"^up\b", e) for e in exprs), "a panel for up"
    assert any(re.search(r"rate\(aftersales_requests_total\[", e) for e in exprs), \
        "a panel for the rate of aftersales_requests_total"
    assert any("aftersales_outbox_lag_seconds" in e for e in exprs)
    assert any("aftersales_parked_messages" in e for e in exprs)


def test_dashboards_are_generated_from_their_source():
    import importlib.util
    spec = importlib.util.spec_from_file_location("dashboards", GRAFANA / "dashboards.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for filename, text in mod.render().items():
        path = GRAFANA / "dashboards" / filename
        assert path.read_text(encoding="utf-8") == text, f"{filename} is stale: run deploy/grafana/dashboards.py"
    on_disk = {p.name for p in (GRAFANA / "dashboards").glob("*.json")}
    assert on_disk == set(mod.render()), "a dashboard file is not generated"


# -- the two commands -----------------------------------------------------------------------

def test_ci_runs_make_test():
    ci = ROOT / ".ci/run"
    assert os.access(ci, os.X_OK), ".ci/run must be executable"
    lines = ci.read_text().splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    assert "set -euo pipefail" in lines
    assert any(re.match(r'^cd "\$\(dirname "\$0"\)/\.\."', line) for line in lines), "cd to the repository root"
    assert lines[-1].strip() == "make test"


def test_the_makefile_has_every_target():
    make = (ROOT / "Makefile").read_text()
    for target in MAKE_TARGETS:
        assert re.search(rf"^{re.escape(target)}:.*## ", make, re.M), f"Makefile: no documented {target} target"
    assert re.search(r"^\.DEFAULT_GOAL := help$", make, re.M)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme and "make test" in readme
    if shutil.which("make") is None:
        return
    shown = subprocess.run(["make", "-s", "--no-print-directory"], cwd=ROOT, capture_output=True,
                           text=True, timeout=30)
    assert shown.returncode == 0, shown.stderr
    for target in MAKE_TARGETS:
        assert f"make {target} " in shown.stdout, f"`make help` does not list {target}"
    dry = subprocess.run(["make", "-n", "test", "test-unit", "PYTEST_ARGS=-k zzz"], cwd=ROOT,
                         capture_output=True, text=True, timeout=30).stdout
    for script in ("ensure-venv", "ensure-broker", "ensure-postgres", "ensure-test-tools"):
        assert f"scripts/{script}.sh" in dry
    assert re.search(r"-m pytest .*-p no:cacheprovider .*-k zzz", dry)
    assert re.search(r"-m pytest .*-m \"not integration and not e2e\" -k zzz", dry)


@pytest.mark.parametrize("script", sorted(p.name for p in (ROOT / "scripts").glob("*.sh")))
def test_scripts_parse(script):
    path = ROOT / "scripts" / script
    assert path.read_text().startswith("#!/usr/bin/env bash") or script == "lib.sh"
    run = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_run_sh_brings_up_the_system_the_documented_way():
    text = (ROOT / "scripts/run.sh").read_text()
    for step in ("scripts/ensure-venv.sh", "scripts/ensure-broker.sh", "-m aftersales migrate",
                 "-m aftersales seed --if-empty", "-m aftersales run", "/health",
                 "keys issue --branch HQ --role admin", "kill -TERM", "kill -KILL"):
        assert step in text, f"run.sh: {step}"
