"""Issue 19: the Kubernetes manifests of deploy/k8s/grading/ validated offline against the
Kubernetes API schemas that kubernetes-validate ships (strict: unknown fields are errors), and
wired together: the workers and the init job read ATTNKIT_DATABASE_URL from the database secret,
and run the ``attnkit queue`` commands the CLI has."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from attnkit.cli import _parser

pytestmark = pytest.mark.slow  # loads the API schemas: kept out of make test-fast
DEPLOY = Path(__file__).resolve().parents[1] / "deploy" / "k8s" / "grading"
VERSION = "1.30.0"


def _documents() -> list[dict]:
    return [d for path in sorted(DEPLOY.glob("*.yaml")) for d in yaml.safe_load_all(path.read_text()) if d]


def test_every_manifest_is_valid_kubernetes() -> None:
    import kubernetes_validate

    documents = _documents()
    assert {d["kind"] for d in documents} >= {"Deployment", "StatefulSet", "Service", "Secret", "Job",
                                              "NetworkPolicy", "PersistentVolumeClaim"}
    for doc in documents:
        kubernetes_validate.validate(doc, VERSION, strict=True)


def test_a_broken_manifest_is_refused() -> None:
    import kubernetes_validate

    worker = next(d for d in _documents() if d["kind"] == "Deployment")
    worker["spec"]["replicas"] = "four"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(worker, VERSION, strict=True)


def test_the_pods_run_attnkit_queue_with_the_database_secret() -> None:
    documents = _documents()
    secret = next(d for d in documents if d["kind"] == "Secret")
    assert secret["stringData"]["url"].startswith("postgresql://")
    for doc in documents:
        if doc["kind"] not in ("Deployment", "Job"):
            continue
        container = doc["spec"]["template"]["spec"]["containers"][0]
        env = {e["name"]: e for e in container["env"]}
        assert env["ATTNKIT_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == secret["metadata"]["name"]
        command = container["command"]
        assert command[:2] == ["attnkit", "queue"]
        _parser().parse_args(command[1:])  # options the CLI really has
