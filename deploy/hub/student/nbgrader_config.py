"""The student side of nbgrader on the course hub (in JUPYTER_CONFIG_PATH of every learner's server).

* Courses come from the hub: ``JupyterHubAuthPlugin`` reads the learner's ``nbgrader-<course>`` groups
  (set by the LTI launch, deploy/hub/course_lti.py); the Assignments tab lists those courses only.
* The exchange is ngshare (a hub service): every fetch, submit and feedback request carries this server's
  hub token, and ngshare records the token's owner; ``--student`` is refused by ngshare-exchange and
  ``JUPYTERHUB_USER`` is not asked.
"""
import os

from nbgrader.auth import JupyterHubAuthPlugin
from ngshare_exchange import configureExchange

c = get_config()  # noqa: F821 (injected by traitlets)
c.Authenticator.plugin_class = JupyterHubAuthPlugin
c.CourseDirectory.course_id = "*"
configureExchange(c, os.environ["ATTNKIT_NGSHARE_URL"])
