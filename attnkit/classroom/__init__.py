"""The course for a class on JupyterHub: what ``make class-demo`` and the hub tests share.

* :mod:`attnkit.classroom.lms`: a fake LMS (LTI 1.3 platform with its own RSA key and JWKS, on loopback);
* :mod:`attnkit.classroom.hub`: starts and stops the class (hub, proxy, ngshare, formgraders) with
  deploy/hub/jupyterhub_config.py;
* :mod:`attnkit.classroom.demo`: ``make class-demo``.

The hub-side code (LTI login, course groups) is deploy/hub/course_lti.py: it runs in the hub's own
environment, which on Kubernetes has no attnkit.
"""
__all__: list[str] = []
