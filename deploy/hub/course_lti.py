"""LTI 1.3 login for the course hub: a path-safe username, nbgrader's course groups, no replayed launches.

Needs only jupyterhub and jupyterhub-ltiauthenticator (the hub's own environment: on Zero to JupyterHub
this file is mounted into the hub pod with ``hub.extraFiles``), so it imports nothing from attnkit.

* ``course_username(id_token, issuer)``: the hub user name from the LMS's stable ``sub`` claim (the LMS
  user id, which never changes when a learner edits their name or e-mail). A ``sub`` that is already a
  safe name (lower-case letters, digits, ``_`` and ``-``, 1-40 characters, not starting with ``lti-``) is
  kept unless it is a reserved name (a service, a grader account); any other becomes ``lti-`` + 20 hex
  digits of SHA-256(issuer, sub), stable and collision-free in practice. Either way the name is a safe
  nbgrader student id (no ``+``, ``*``, ``/``, ``..``).
* ``course_groups(id_token, courses)``: the LMS context (course) and roles of one launch -> the groups
  nbgrader's multi-course set-up reads: ``nbgrader-<course>`` for learners, ``formgrade-<course>`` for
  instructors and teaching assistants. ``courses`` maps LMS context ids to nbgrader course ids; a
  launch from an unknown context grants nothing.
* ``post_auth_hook``: adds the groups of this launch to those the user already has (a learner of two
  courses launches from each in turn; the authenticator manages groups, so the hook must merge).
* ``CourseLTI13Authenticator``: ltiauthenticator's LTI 1.3 login plus the two rules above and a
  server-side record of used nonces: ltiauthenticator checks the nonce against a cookie of the same
  browser, so an id_token replayed together with its cookies would pass; here it is refused until the
  token is too old to be accepted anyway (``LTI13LaunchValidator.max_age``). The record is in the hub's
  memory: one hub process, as JupyterHub runs.
"""
from __future__ import annotations

import hashlib
import re
import threading
import time
from typing import Any

from ltiauthenticator.lti13.auth import LTI13Authenticator
from ltiauthenticator.lti13.error import LoginError
from traitlets import Dict as DictTrait
from traitlets import Int, default
from traitlets import Set as SetTrait

__all__ = [
    "CONTEXT_CLAIM", "ROLES_CLAIM", "CourseLTI13Authenticator", "course_groups", "course_username",
    "post_auth_hook",
]

CONTEXT_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/context"
ROLES_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/roles"
# LIS role URIs (LTI 1.3 section A.2): membership roles of a context; TeachingAssistant is a sub-role
# of Instructor ("membership/Instructor#TeachingAssistant")
_MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership"
GRADER_ROLES = (f"{_MEMBERSHIP}#Instructor", f"{_MEMBERSHIP}#ContentDeveloper", f"{_MEMBERSHIP}/Instructor#")
LEARNER_ROLES = (f"{_MEMBERSHIP}#Learner",)
SAFE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
SAFE_COURSE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def course_username(id_token: dict[str, Any], issuer: str, reserved: frozenset[str] | set[str] = frozenset()) -> str:
    """The hub user name of an LTI 1.3 id_token: its ``sub`` when already safe, else a stable hash.

    ``reserved``: names an LMS user must not get (the hub's services and grader accounts: ngshare knows
    a service and a user of the same name as one person)."""
    sub = id_token.get("sub")
    if not isinstance(sub, str) or not sub:
        raise LoginError("the LTI launch has no 'sub' claim")
    if SAFE_NAME.match(sub) and not sub.startswith("lti-") and sub not in reserved:
        return sub
    digest = hashlib.sha256(f"{issuer}\n{sub}".encode()).hexdigest()
    return f"lti-{digest[:20]}"


def course_groups(id_token: dict[str, Any], courses: dict[str, str]) -> set[str]:
    """``{'nbgrader-<course>'}`` for a learner, ``{'formgrade-<course>'}`` for an instructor or TA."""
    context = id_token.get(CONTEXT_CLAIM)
    context_id = context.get("id") if isinstance(context, dict) else None
    course = courses.get(context_id) if isinstance(context_id, str) else None
    if course is None or not SAFE_COURSE.match(course):
        return set()
    roles = id_token.get(ROLES_CLAIM)
    roles = [r for r in roles if isinstance(r, str)] if isinstance(roles, list) else []
    groups = set()
    if any(r.startswith(GRADER_ROLES) for r in roles):
        groups.add(f"formgrade-{course}")
    if any(r in LEARNER_ROLES for r in roles):
        groups.add(f"nbgrader-{course}")
    return groups


def _existing_course_groups(handler: Any, name: str) -> set[str]:
    """The ``nbgrader-*``/``formgrade-*`` groups the user already has in the hub's database."""
    from jupyterhub import orm

    user = orm.User.find(handler.db, name) if handler is not None else None
    if user is None:
        return set()
    return {g.name for g in user.groups if g.name.startswith(("nbgrader-", "formgrade-"))}


async def post_auth_hook(authenticator: Any, handler: Any, authentication: dict[str, Any]) -> dict[str, Any]:
    """Authenticator.post_auth_hook: the launch's course groups, merged with the user's earlier ones."""
    id_token = authentication.get("auth_state") or {}
    courses = getattr(authenticator, "courses", {})
    groups = course_groups(id_token, courses) | _existing_course_groups(handler, authentication["name"])
    authentication["groups"] = sorted(groups)
    return authentication


class CourseLTI13Authenticator(LTI13Authenticator):
    """LTI 1.3 with a path-safe username, course groups (``post_auth_hook``) and one use per nonce."""

    courses = DictTrait(
        config=True, help="LMS context id -> nbgrader course id (lower-case letters, digits, _ and -)")
    reserved_names = SetTrait(
        config=True, help="names an LMS user never gets (services, grader accounts): such a sub is hashed")
    nonce_ttl = Int(
        900, config=True, help="seconds a used nonce is remembered (at least the validator's max_age)")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._used_nonces: dict[str, float] = {}
        self._nonce_lock = threading.Lock()

    @default("post_auth_hook")
    def _default_post_auth_hook(self):
        return post_auth_hook

    def get_username(self, token: dict[str, Any]) -> str:
        return course_username(token, self.issuer, self.reserved_names)

    def check_nonce_unused(self, token: dict[str, Any]) -> None:
        """Refuse a nonce seen before (a replayed id_token); remember this one for ``nonce_ttl``."""
        nonce = token.get("nonce")
        if not isinstance(nonce, str) or not nonce:
            raise LoginError("the LTI launch has no nonce")
        now = time.monotonic()
        with self._nonce_lock:
            for old in [n for n, t in self._used_nonces.items() if now - t > self.nonce_ttl]:
                del self._used_nonces[old]
            if nonce in self._used_nonces:
                raise LoginError("this LTI launch was already used (replayed nonce)")
            self._used_nonces[nonce] = now

    async def authenticate(self, handler: Any, data: dict[str, Any] | None = None) -> dict[str, Any]:
        data = data or {}
        self.check_nonce_unused(data)
        return await super().authenticate(handler, data)
