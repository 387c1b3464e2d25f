"""JupyterHub for an attnkit class on one machine: LTI 1.3 login, nbgrader's multi-course roles, ngshare.

Started by ``attnkit.classroom.hub.ClassHub`` (``make class-demo`` and the hub tests), which writes the
settings this file reads into a JSON file named by ``ATTNKIT_HUB_SETTINGS``: ports (all on 127.0.0.1),
the PostgreSQL URL of the hub's database, the LMS's issuer/JWKS/authorize URLs, the courses and their
folders, and the tokens of the services. The same set-up on Kubernetes is deploy/k8s/values.yaml.

What runs (docs/deploy.md, "JupyterHub for a class"):

* the hub (``hub_bind_url``), and configurable-http-proxy from ``deploy/hub/node_modules`` in front;
* ``CourseLTI13Authenticator`` (deploy/hub/course_lti.py): users arrive from the LMS; the LMS course and
  role of each launch put them in ``nbgrader-<course>`` (learners) or ``formgrade-<course>`` (instructors
  and TAs); the roles below are those of nbgrader's ``demos/demo_multiple_classes``;
* one formgrader service per course (``jupyterhub-singleuser`` in the course folder, nbgrader's
  instructor extensions): reached only by the course's ``formgrade-<course>`` group;
* the ``ngshare`` service: the exchange; it knows users by their hub token, never by what they claim;
* ``attnkit-admin``: a token-only service for roster imports (hub groups, ngshare rosters);
* learners' servers (``SimpleLocalProcessSpawner`` here, one process each: no isolation between
  learners on one machine; KubeSpawner pods on Kubernetes) with the learner settings of
  ``jupyter_config/learner`` and the student-side nbgrader settings of ``deploy/hub/student/``.
"""
import json
import os
import socket
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

from course_lti import CourseLTI13Authenticator  # noqa: E402 (deploy/hub is not a package)

c = get_config()  # noqa: F821 (injected by traitlets)
S = json.loads(Path(os.environ["ATTNKIT_HUB_SETTINGS"]).read_text())
P = S["ports"]
WORK = Path(S["workdir"])
VENV_BIN = Path(S["venv_bin"])

# --- hub, proxy, database: loopback only ------------------------------------------------------------
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = P["public"]
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{P['hub']}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{P['proxy_api']}"
c.ConfigurableHTTPProxy.command = [str(HERE / "node_modules" / ".bin" / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.auth_token = S["proxy_token"]
c.JupyterHub.db_url = S["db_url"]
c.JupyterHub.cookie_secret_file = str(WORK / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(WORK / "jupyterhub.pid")
c.JupyterHub.log_level = S.get("log_level", "INFO")
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

# --- LTI 1.3 login --------------------------------------------------------------------------------
lti = S["lti"]
c.JupyterHub.authenticator_class = CourseLTI13Authenticator
c.CourseLTI13Authenticator.issuer = lti["issuer"]
c.CourseLTI13Authenticator.client_id = [lti["client_id"]]
c.CourseLTI13Authenticator.authorize_url = lti["authorize_url"]
c.CourseLTI13Authenticator.jwks_endpoint = lti["jwks_url"]
c.CourseLTI13Authenticator.uri_scheme = lti.get("uri_scheme", "auto")
c.CourseLTI13Authenticator.courses = {ctx: course for course, ctx in
                                      ((name, spec["lms_context"]) for name, spec in S["courses"].items())}
c.CourseLTI13Authenticator.reserved_names = {*S["courses"], *(f"grader-{name}" for name in S["courses"]),
                                             "ngshare", "attnkit-admin"}
c.Authenticator.manage_groups = True  # the post_auth_hook's groups are the user's course groups
c.Authenticator.allow_all = True  # whoever the LMS launches (the LMS decides who is in a course)
c.Authenticator.enable_auth_state = False

# --- nbgrader's multi-course groups and roles (nbgrader demos/demo_multiple_classes) ---------------------
# With manage_groups, JupyterHub refuses load_groups: the course groups are created by the roles below
# and filled by LTI launches (and roster imports through the API); the grader accounts (hub users behind
# the formgrader services, nbgrader #1872) are created at start as allowed users.
roles, services = [], []
c.Authenticator.allowed_users = {f"grader-{course}" for course in S["courses"]}
roles.append({"name": "server", "scopes": ["inherit"]})  # the Assignments tab lists courses as the user
roles.append({"name": "attnkit-admin", "services": ["attnkit-admin"],
              "scopes": ["admin:users", "admin:groups", "admin:servers", "tokens", "list:services",
                         "read:services", "access:services!service=ngshare"]})
services.append({"name": "attnkit-admin", "api_token": S["admin_token"]})
ngshare_url = f"http://127.0.0.1:{P['public']}/services/ngshare"
for course, spec in S["courses"].items():
    roles.append({"name": f"formgrade-{course}", "groups": [f"formgrade-{course}"],
                  "scopes": [f"access:services!service={course}"]})
    roles.append({"name": f"nbgrader-{course}", "groups": [f"nbgrader-{course}"],
                  "scopes": ["list:services", f"read:services!service={course}"]})
    services.append({
        "name": course,
        "url": f"http://127.0.0.1:{spec['port']}",
        "command": [str(VENV_BIN / "jupyterhub-singleuser"), *S.get("server_args", [])],
        "cwd": spec["dir"],
        "api_token": spec["token"],
        "oauth_no_confirm": True,
        "timeout": S.get("service_timeout", 300),  # a JupyterLab server starts in 5-30 s (loaded machine)
        "environment": {
            "JUPYTERHUB_DEFAULT_URL": "/formgrader",
            # nbgrader's formgrader needs a hub user behind the service (nbgrader #1872) and ngshare-exchange
            # reads JUPYTERHUB_USER or USER when imported
            "JUPYTERHUB_USER": f"grader-{course}", "USER": f"grader-{course}",
            "JUPYTER_CONFIG_PATH": os.pathsep.join([str(REPO / "jupyter_config" / "instructor"),
                                                    str(REPO / "jupyter_config" / "learner")]),
            "PATH": os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "")]),
            "ATTNKIT_NGSHARE_URL": ngshare_url,
        },
    })
services.append({
    "name": "ngshare",
    "url": f"http://127.0.0.1:{P['ngshare']}",
    "command": [S["ngshare"]["python"], str(HERE / "ngshare_service.py"), "--admins", "attnkit-admin",
                "--database", S["ngshare"]["db_url"], "--storage", S["ngshare"]["storage"]],
    "oauth_no_confirm": True,
    "timeout": S.get("service_timeout", 300),
})
c.JupyterHub.load_roles = roles
c.JupyterHub.services = services

# --- learners' servers ------------------------------------------------------------------------------
c.JupyterHub.spawner_class = "simple"  # SimpleLocalProcessSpawner: one process per learner, no isolation
c.SimpleLocalProcessSpawner.home_dir_template = str(WORK / "home" / "{username}")
c.Spawner.cmd = [str(VENV_BIN / "jupyterhub-singleuser")]
c.Spawner.args = list(S.get("server_args", []))
c.Spawner.default_url = "/lab"
c.Spawner.ip = "127.0.0.1"
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
c.Spawner.environment = {
    # the learner settings (no instructor tools) plus the student side of nbgrader (deploy/hub/student)
    "JUPYTER_CONFIG_PATH": os.pathsep.join([str(HERE / "student"), str(REPO / "jupyter_config" / "learner")]),
    "ATTNKIT_NGSHARE_URL": ngshare_url,
    "PATH": os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "")]),
}
SERVER_PORTS = range(*P["servers"])


def _free_port() -> int:
    """A free port of the class's range for the next learner's server (all on 127.0.0.1)."""
    for port in SERVER_PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {SERVER_PORTS}")


def pre_spawn_hook(spawner):
    """A port of the range, and the course's lessons in a new learner's home (kept once edited)."""
    spawner.port = _free_port()
    home = Path(spawner.home_dir_template.format(username=spawner.user.name))
    lessons = home / "lessons"
    if not lessons.exists():
        lessons.mkdir(parents=True)
        for nb in sorted((REPO / "lessons").glob("*.ipynb")):
            (lessons / nb.name).write_bytes(nb.read_bytes())


c.Spawner.pre_spawn_hook = pre_spawn_hook
