"""A fake LMS for the tests and ``make class-demo``: an LTI 1.3 platform with its own RSA key, on loopback.

It plays the LMS's part of an LTI 1.3 launch (OpenID Connect third-party-initiated login):

1. ``GET /launch?user=ada&course=lms-101``: the learner clicks the course's tool link; the platform sends
   the browser to the tool's login initiation URL (the hub's ``/hub/lti13/oauth_login``) with ``iss``,
   ``login_hint`` (the user), ``lti_message_hint`` (the course) and ``target_link_uri``;
2. ``GET /authorize?...``: the hub sends the browser back with a ``nonce``, ``state`` and
   ``redirect_uri``; the platform answers with a form that POSTs a signed ``id_token`` (RS256, ``kid`` of
   its key) and the ``state`` to the hub's callback;
3. ``GET /jwks.json``: the hub fetches the public key to verify the signature.

``GET /`` lists the demo users with their launch links (what ``make class-demo`` points people to).
The users and courses are ``USERS`` and ``COURSES``; ``Platform.id_token`` also signs tokens for the
tests' attacks (another key, an expired token, a replayed nonce).
"""
from __future__ import annotations

import html
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

__all__ = ["COURSES", "USERS", "Platform", "LmsUser", "new_key"]

LTI = "https://purl.imsglobal.org/spec/lti/claim"
ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership"
ROLES = {"Learner": f"{ROLE}#Learner", "Instructor": f"{ROLE}#Instructor",
         "TeachingAssistant": f"{ROLE}/Instructor#TeachingAssistant"}


@dataclass(frozen=True)
class LmsUser:
    sub: str  # the LMS's stable user id (the hub's user name)
    name: str
    memberships: dict[str, str]  # LMS context id -> role name in ROLES


# LMS context id -> nbgrader course id (the hub's CourseLTI13Authenticator.courses)
COURSES = {"lms-101": "attn101", "lms-202": "attn202"}
USERS = {u.sub: u for u in (
    LmsUser("ada", "Ada Lovelace", {"lms-101": "Learner"}),
    LmsUser("bob", "Bob Kahn", {"lms-101": "Learner"}),
    LmsUser("eve", "Eve (course 202 only)", {"lms-202": "Learner"}),
    LmsUser("ines", "Ines (instructor, course 101)", {"lms-101": "Instructor"}),
    LmsUser("jon", "Jon (instructor, course 202)", {"lms-202": "Instructor"}),
)}


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Platform:
    """The fake LMS. ``start()`` serves it on ``http://127.0.0.1:<port>`` in a thread; ``stop()`` ends it."""

    port: int
    tool_login_url: str  # the hub's LTI 1.3 login initiation URL
    client_id: str = "attnkit-hub"
    deployment_id: str = "attnkit-deployment-1"
    key: rsa.RSAPrivateKey = field(default_factory=new_key)
    kid: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    _server: ThreadingHTTPServer | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/jwks.json"

    @property
    def authorize_url(self) -> str:
        return f"{self.issuer}/authorize"

    def launch_url(self, user: str, context: str, next_url: str | None = None) -> str:
        """The course link a user clicks in the LMS; ``next_url``: where the hub sends them after login."""
        query = {"user": user, "course": context, **({"next": next_url} if next_url else {})}
        return f"{self.issuer}/launch?{urlencode(query)}"

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def login_initiation(self, user: str, context: str, next_url: str | None = None) -> str:
        """Step 1: the URL of the hub's login initiation for this user and course."""
        return f"{self.tool_login_url}?" + urlencode({
            "iss": self.issuer, "login_hint": user, "lti_message_hint": context, "client_id": self.client_id,
            "target_link_uri": self.tool_login_url.split("/hub/")[0] + "/hub/",
            "lti_deployment_id": self.deployment_id, **({"next": next_url} if next_url else {})})

    def claims(self, user: str, context: str, nonce: str, *, now: float | None = None,
               lifetime: int = 300) -> dict[str, Any]:
        """The id_token claims of a resource-link launch (LTI 1.3 section 5.3)."""
        person = USERS[user]
        now = time.time() if now is None else now
        role = person.memberships.get(context)
        return {
            "iss": self.issuer, "aud": self.client_id, "sub": person.sub, "nonce": nonce,
            "iat": int(now), "exp": int(now) + lifetime, "name": person.name,
            "email": f"{person.sub}@lms.example.org",
            f"{LTI}/message_type": "LtiResourceLinkRequest", f"{LTI}/version": "1.3.0",
            f"{LTI}/deployment_id": self.deployment_id,
            f"{LTI}/target_link_uri": self.tool_login_url.split("/hub/")[0] + "/hub/",
            f"{LTI}/resource_link": {"id": f"{context}-jupyter", "title": "Course notebooks"},
            f"{LTI}/context": {"id": context, "label": COURSES.get(context, context), "title": context},
            f"{LTI}/roles": [ROLES[role]] if role else [],
        }

    def id_token(self, claims: dict[str, Any], key: rsa.RSAPrivateKey | None = None) -> str:
        """Sign ``claims`` with the platform's key (or ``key``, for a forged token)."""
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": self.kid})

    def authorize(self, query: dict[str, str]) -> tuple[str, dict[str, str]]:
        """Step 2: the hub's authentication request -> (callback URL, form fields to POST there)."""
        claims = self.claims(query["login_hint"], query.get("lti_message_hint", ""), query["nonce"])
        return query["redirect_uri"], {"id_token": self.id_token(claims), "state": query["state"]}

    def start(self) -> Platform:
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet: the tests and the demo print what matters
                pass

            def _send(self, status: int, body: str, content_type: str = "text/html; charset=utf-8",
                      location: str | None = None) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                if location:
                    self.send_header("Location", location)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/jwks.json":
                    return self._send(200, json.dumps(platform.jwks()), "application/json")
                if url.path == "/launch" and query.get("user") in USERS:
                    return self._send(302, "", location=platform.login_initiation(
                        query["user"], query.get("course", ""), query.get("next")))
                if url.path == "/authorize" and query.get("login_hint") in USERS and "redirect_uri" in query:
                    action, fields = platform.authorize(query)
                    return self._send(200, _autopost(action, fields))
                if url.path == "/":
                    return self._send(200, platform.home_page())
                return self._send(404, "not found", "text/plain")

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, name="fake-lms", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @staticmethod
    def landing(role: str, context: str) -> str | None:
        """Where a launch lands: an instructor in their course's formgrader, a learner in JupyterLab."""
        return f"/services/{COURSES[context]}/formgrader" if role != "Learner" else None

    def home_page(self) -> str:
        rows = "".join(
            f"<li><a href='{html.escape(self.launch_url(u.sub, ctx, self.landing(role, ctx)))}'>"
            f"{html.escape(u.name)}</a>: {html.escape(role)} in {html.escape(ctx)} ({html.escape(COURSES[ctx])})</li>"
            for u in USERS.values() for ctx, role in u.memberships.items())
        return (f"<!doctype html><title>Fake LMS</title><h1>Fake LMS (attnkit tests and demo)</h1>"
                f"<p>Issuer {html.escape(self.issuer)}. Launch the course hub as:</p><ul>{rows}</ul>")


def _autopost(action: str, fields: dict[str, str]) -> str:
    """The self-submitting form of an OIDC ``form_post`` response."""
    inputs = "".join(f"<input type='hidden' name='{html.escape(k)}' value='{html.escape(v)}'>"
                     for k, v in fields.items())
    return (f"<!doctype html><title>LMS</title><body onload='document.forms[0].submit()'>"
            f"<form method='post' action='{html.escape(action)}'>{inputs}"
            f"<noscript><button>Continue</button></noscript></form></body>")
