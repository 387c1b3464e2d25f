"""The LTI rules of the course hub without a hub (fast): user names, course groups, nonces, the fake LMS.

The same rules are exercised through a real hub, proxy and LMS launch in tests/test_hub_class.py.
"""
import sys
import time
from pathlib import Path

import jwt
import pytest

pytest.importorskip("ltiauthenticator")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy" / "hub"))

from course_lti import (  # noqa: E402 (deploy/hub is not a package)
    CONTEXT_CLAIM,
    ROLES_CLAIM,
    CourseLTI13Authenticator,
    course_groups,
    course_username,
)
from ltiauthenticator.lti13.error import LoginError  # noqa: E402

from attnkit.classroom.lms import COURSES, ROLES, Platform, new_key  # noqa: E402


def launch(sub="ada", context="lms-101", roles=("Learner",)):
    return {"sub": sub, CONTEXT_CLAIM: {"id": context, "label": "x"}, ROLES_CLAIM: [ROLES[r] for r in roles]}


@pytest.mark.parametrize("sub", ["ada", "u-1234", "3f2c9a0e-77aa-4c5e-9f0b-1c2d3e4f5a6b"])
def test_a_safe_sub_is_the_user_name(sub):
    assert course_username({"sub": sub}, "https://lms") == sub


@pytest.mark.parametrize("sub", ["Ada", "a+b", "*", "../etc", "a/b", "lti-123", "x" * 41, "ada@lms.org", "attn101"])
def test_any_other_sub_becomes_a_stable_path_safe_hash(sub):
    name = course_username({"sub": sub}, "https://lms", reserved={"attn101"})
    assert name.startswith("lti-") and len(name) == 24 and name[4:].isalnum()
    assert name == course_username({"sub": sub}, "https://lms", reserved={"attn101"})  # stable
    assert name != course_username({"sub": sub}, "https://other-lms", reserved={"attn101"})  # per platform


def test_a_launch_without_sub_is_refused():
    with pytest.raises(LoginError):
        course_username({"email": "a@b"}, "https://lms")


def test_roles_map_to_nbgrader_groups():
    assert course_groups(launch(roles=("Learner",)), COURSES) == {"nbgrader-attn101"}
    assert course_groups(launch(roles=("Instructor",)), COURSES) == {"formgrade-attn101"}
    assert course_groups(launch(roles=("TeachingAssistant",)), COURSES) == {"formgrade-attn101"}
    assert course_groups(launch(context="lms-202"), COURSES) == {"nbgrader-attn202"}


@pytest.mark.parametrize("token", [
    launch(context="lms-999"),                                        # a course the hub does not serve
    {"sub": "ada", CONTEXT_CLAIM: "lms-101", ROLES_CLAIM: ["x"]},       # malformed claims
    {"sub": "ada", CONTEXT_CLAIM: {"id": "lms-101"}, ROLES_CLAIM: "http://purl.imsglobal.org/vocab/lis/v2/"
                                                                 "membership#Instructor"},
    launch(roles=()),
])
def test_unknown_courses_and_odd_claims_grant_nothing(token):
    assert course_groups(token, COURSES) == set()


def test_a_nonce_is_accepted_once():
    auth = CourseLTI13Authenticator()
    auth.check_nonce_unused({"nonce": "n1"})
    with pytest.raises(LoginError, match="replayed"):
        auth.check_nonce_unused({"nonce": "n1"})
    with pytest.raises(LoginError):
        auth.check_nonce_unused({})


def test_the_fake_lms_signs_tokens_its_jwks_verifies_and_only_those():
    platform = Platform(0, "http://127.0.0.1:1/hub/lti13/oauth_login")
    claims = platform.claims("ada", "lms-101", "n")
    key = jwt.PyJWK(platform.jwks()["keys"][0]).key
    decoded = jwt.decode(platform.id_token(claims), key, algorithms=["RS256"], audience=platform.client_id)
    assert decoded["sub"] == "ada" and decoded[ROLES_CLAIM] == [ROLES["Learner"]]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(platform.id_token(claims, key=new_key()), key, algorithms=["RS256"], audience=platform.client_id)
    old = platform.claims("ada", "lms-101", "n", now=time.time() - 3600)
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(platform.id_token(old), key, algorithms=["RS256"], audience=platform.client_id)
