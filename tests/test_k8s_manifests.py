"""deploy/k8s/: every manifest is valid against the Kubernetes schemas (kubernetes-validate,
offline, a pinned version, strict: no unknown fields), and the services' Deployments are fit to
run several instances: replicas >= 2, probes on /health, resource requests and limits, the
image and ports of the Dockerfile and docker-compose.yml."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

kubernetes_validate = pytest.importorskip("kubernetes_validate")

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
K8S_VERSION = "1.30.0"      # the oldest Kubernetes the manifests target
from aftersales.registry import SERVICES  # noqa: E402  (every registered service, the console too)


def documents() -> list[tuple[str, dict]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                docs.append((path.name, doc))
    return docs


def of_kind(kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for _f, d in documents() if d["kind"] == kind}


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name,doc", [d for d in documents() if d[1]["kind"] != "Kustomization"],
                         ids=lambda v: v if isinstance(v, str) else v["kind"] + "/" + v["metadata"]["name"])
def test_every_manifest_is_valid_kubernetes(name, doc):
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_the_kustomization_lists_every_manifest():
    kust = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kust["resources"]) == files


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_runs_several_replicas_probed_on_health_with_limits(service):
    dep = of_kind("Deployment")[service]
    assert dep["spec"]["replicas"] >= 2
    [c] = dep["spec"]["template"]["spec"]["containers"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert c[probe]["httpGet"]["path"] == "/health", probe
        assert c[probe]["httpGet"]["port"] in ("http", c["ports"][0]["containerPort"])
    limits, requests = c["resources"]["limits"], c["resources"]["requests"]
    assert {"cpu", "memory"} <= set(limits) and {"cpu", "memory"} <= set(requests)
    # sized from the measured RSS (~100-150 MB): room above it, not a node's worth
    assert 150 <= mebibytes(limits["memory"]) <= 1024
    assert mebibytes(requests["memory"]) <= mebibytes(limits["memory"])
    # liveness must not restart a pod during a short broker or database outage
    live = c["livenessProbe"]
    assert live["periodSeconds"] * live["failureThreshold"] >= 120


@pytest.mark.parametrize("service", SERVICES)
def test_image_command_ports_and_environment_match_the_dockerfile_and_compose(service):
    dep = of_kind("Deployment")[service]
    [c] = dep["spec"]["template"]["spec"]["containers"]
    ours = compose()["services"][service]
    assert c["image"].split(":")[0] == ours["image"].split(":")[0] == "aftersales"
    assert c["args"] == ours["command"] == ["run", service]
    port = int(ours["ports"][0].split(":")[1])
    assert c["ports"][0]["containerPort"] == port
    expose = re.search(r"^EXPOSE (.+)$", (ROOT / "Dockerfile").read_text(), re.M).group(1).split()
    assert str(port) in expose
    env = {e["name"]: e for e in c["env"]}
    assert env[f"{service.upper()}_HTTP"]["value"] == f"0.0.0.0:{port}"
    for var in ("AMQP_URI", "AFTERSALES_SECRET", f"{service.upper()}_DATABASE_URL"):
        assert env[var]["valueFrom"]["secretKeyRef"]["name"] == "aftersales-secret", var
    assert [r["configMapRef"]["name"] for r in c["envFrom"]] == ["aftersales-config"]
    svc = of_kind("Service")[service]
    assert svc["spec"]["ports"][0]["port"] == port
    assert svc["spec"]["selector"] == dep["spec"]["template"]["metadata"]["labels"]


def test_the_secret_names_every_key_the_pods_read_and_holds_no_usable_signing_secret():
    secret = of_kind("Secret")["aftersales-secret"]["stringData"]
    wanted = set()
    for _f, d in documents():
        if d["kind"] in ("Deployment", "Job"):
            for c in d["spec"]["template"]["spec"]["containers"]:
                wanted |= {e["valueFrom"]["secretKeyRef"]["key"] for e in c.get("env", [])
                           if "secretKeyRef" in e.get("valueFrom", {})
                           and e["valueFrom"]["secretKeyRef"]["name"] == "aftersales-secret"}
    assert wanted <= set(secret)
    from aftersales.config import secret_problem
    assert secret_problem(secret["AFTERSALES_SECRET"]) is not None, "a usable secret is committed"


def test_amqp_uri_names_the_three_rabbitmq_nodes_and_the_cluster_has_three():
    from aftersales.messaging.broker import nodes
    uri = of_kind("Secret")["aftersales-secret"]["stringData"]["AMQP_URI"]
    sts = of_kind("StatefulSet")["rabbitmq"]
    assert sts["spec"]["replicas"] == 3
    hosts = [n.split("@", 1)[1].split(":")[0] for n in nodes(uri)]
    assert hosts == [f"rabbitmq-{i}.{sts['spec']['serviceName']}" for i in range(3)]


def test_the_migrations_job_migrates_every_database():
    job = of_kind("Job")["aftersales-migrate"]
    [c] = job["spec"]["template"]["spec"]["containers"]
    assert c["args"][0] == "migrate" and c["image"] == "aftersales"
    assert {e["name"] for e in c["env"]} >= {f"{s.upper()}_DATABASE_URL" for s in SERVICES}
    assert "limits" in c["resources"]


def mebibytes(q: str) -> float:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "M": 1e6 / 2**20, "G": 1e9 / 2**20}
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([A-Za-z]*)", q)
    return float(m.group(1)) * units.get(m.group(2), 1 / 2**20)
