"""The Kubernetes side of the class, checked offline (deploy/k8s/): plain manifests against Kubernetes'
schemas (kubernetes-validate, strict), and the Zero to JupyterHub values against the one-machine set-up.

The chart's own values schema is not on this machine (no Helm, no network): the values are checked for
what this course needs, the same names and roles deploy/hub/jupyterhub_config.py gives each course.
"""
from pathlib import Path

import pytest
import yaml

K8S = Path(__file__).resolve().parents[1] / "deploy" / "k8s"
REPO = K8S.parents[1]


@pytest.mark.parametrize("manifest", ["ngshare.yaml", "formgrader-attn101.yaml"])
def test_plain_manifests_are_valid_kubernetes(manifest):
    kv = pytest.importorskip("kubernetes_validate")
    docs = [d for d in yaml.safe_load_all((K8S / manifest).read_text()) if d]
    assert {d["kind"] for d in docs} == {"PersistentVolumeClaim", "Deployment", "Service"}
    for doc in docs:
        kv.validate(doc, "1.30.0", strict=True)  # raises ValidationError on any unknown or mistyped field


def test_a_manifest_with_a_typo_is_caught():
    kv = pytest.importorskip("kubernetes_validate")
    doc = next(d for d in yaml.safe_load_all((K8S / "ngshare.yaml").read_text()) if d and d["kind"] == "Service")
    doc["spec"]["ports"][0]["targetPorts"] = "http"
    with pytest.raises(kv.ValidationError):
        kv.validate(doc, "1.30.0", strict=True)


def test_values_give_each_course_the_one_machine_roles_and_services():
    values = yaml.safe_load((K8S / "values.yaml").read_text())
    hub = values["hub"]
    lti = hub["config"]["CourseLTI13Authenticator"]
    assert "CourseLTI13Authenticator" in hub["extraConfig"]["00-course-lti"]
    assert hub["config"]["Authenticator"]["manage_groups"] is True
    for course in lti["courses"].values():
        assert hub["loadRoles"][f"formgrade-{course}"] == {
            "groups": [f"formgrade-{course}"], "scopes": [f"access:services!service={course}"]}
        assert hub["loadRoles"][f"nbgrader-{course}"] == {
            "groups": [f"nbgrader-{course}"], "scopes": ["list:services", f"read:services!service={course}"]}
        assert course in hub["services"] and f"grader-{course}" in hub["config"]["Authenticator"]["allowed_users"]
        assert {course, f"grader-{course}"} <= set(lti["reserved_names"])
    assert set(hub["services"]) <= set(lti["reserved_names"])
    assert hub["loadRoles"]["server"]["scopes"] == ["inherit"]
    assert values["cull"]["enabled"] is True
    assert values["singleuser"]["extraEnv"]["ATTNKIT_NGSHARE_URL"].endswith("/services/ngshare")


def test_the_dockerfile_copies_what_exists_and_no_solutions():
    text = (K8S / "Dockerfile").read_text()
    sources = [line.split()[-2] for line in text.splitlines() if line.startswith("COPY") and "--chown" not in line]
    sources += [p for line in text.splitlines() if line.startswith("COPY --chown") for p in line.split()[2:-1]]
    assert sources and all((REPO / s).exists() for s in sources), sources
    assert "solutions" not in text.replace("no solutions", "")
