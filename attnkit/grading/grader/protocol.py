"""What the grader accepts from a grading kernel: one typed reply per request, carrying its tag.

Everything a kernel sends is data from an attacker (its type, order, size and claims). A message
is accepted only if it is the reply the open request expects, with that request's tag, and every
field has the type and size given here; during a ``call``, ``helper`` requests for the helpers the
grader named are accepted too, up to a bound. Anything else raises :class:`ProtocolViolation`,
and the session ends the kernel.

Which replies can earn points? None by themselves: a ``ran`` reply only carries the text a cell
printed, and a ``value`` or ``called`` reply a value the grader's test cell then judges. A kernel
that forges a reply (its pipe is reachable from the learner's code) can only say what the
learner's code could have computed.
"""
from __future__ import annotations

from typing import Any

__all__ = ["ProtocolViolation", "EXPECTED", "check_reply"]

# request op -> the type of its reply
EXPECTED = {"start": "started", "run": "ran", "get": "value", "call": "called", "evidence": "evidence",
            "end": "ended"}
_NAME = 200  # longest name (an exception's, a helper's)


class ProtocolViolation(Exception):
    """A kernel sent something other than the reply the grader asked for."""


def _require(ok: bool, why: str) -> None:
    if not ok:
        raise ProtocolViolation(why)


def _text(value: Any, limit: int | None = None) -> bool:
    return isinstance(value, str) and (limit is None or len(value) <= limit)


def _keys(message: dict, required: set[str], optional: set[str] = frozenset()) -> None:
    keys = set(message)
    _require(required <= keys <= required | optional,
             f"a {message.get('type')!r} reply with fields {sorted(keys)[:12]}")


def _outputs(outputs: Any) -> None:
    _require(isinstance(outputs, list) and len(outputs) <= 3, "outputs that are not a short list")
    for out in outputs:
        _require(isinstance(out, dict), "an output that is not an object")
        if out.get("output_type") == "stream":
            _require(set(out) == {"output_type", "name", "text"} and out["name"] in ("stdout", "stderr")
                     and _text(out["text"]), "a malformed stream output")
        elif out.get("output_type") == "error":
            _require(set(out) == {"output_type", "ename", "evalue", "traceback"} and _text(out["ename"], _NAME)
                     and _text(out["evalue"]) and isinstance(out["traceback"], list)
                     and all(_text(line) for line in out["traceback"]), "a malformed error output")
        else:
            raise ProtocolViolation(f"an output of type {str(out.get('output_type'))[:40]!r}")


def check_reply(message: Any, tag: str, op: str, helpers: frozenset[str] = frozenset()) -> str:
    """The type of ``message`` if it is an acceptable answer to the request ``op`` tagged ``tag``
    (its reply, or a helper request during a call).

    Raises:
        ProtocolViolation: anything else.
    """
    _require(isinstance(message, dict), "a message that is not an object")
    _require(message.get("tag") == tag, "a message that does not carry the open request's tag")
    kind = message.get("type")
    if kind == "helper" and op == "call":
        _keys(message, {"tag", "type", "name", "args", "kwargs"})
        _require(message["name"] in helpers, f"a helper request for {str(message['name'])[:80]!r}, not offered")
        _require(isinstance(message["args"], list) and isinstance(message["kwargs"], dict)
                 and set(message["kwargs"]) <= {"__dict__"}, "a helper request with malformed arguments")
        return kind
    _require(kind == EXPECTED[op], f"a {str(kind)[:40]!r} message in answer to {op!r}")
    if kind == "started":
        _keys(message, {"tag", "type"})
    elif kind == "ran":
        _keys(message, {"tag", "type", "outputs", "error"})
        _outputs(message["outputs"])
        _require(message["error"] is None or _text(message["error"], _NAME), "a malformed error name")
    elif kind == "value":
        _keys(message, {"tag", "type", "kind"}, {"value"})
        _require(message["kind"] in ("missing", "function", "value"), "a value of unknown kind")
        _require(("value" in message) == (message["kind"] == "value"), "a value without a value")
    elif kind == "called":
        if message.get("ok") is True:
            _keys(message, {"tag", "type", "ok", "value"})
        elif "forbidden" in message:
            _keys(message, {"tag", "type", "ok", "forbidden"})
            _require(message["ok"] is False and _text(message["forbidden"], 400), "a malformed ban report")
        else:
            _keys(message, {"tag", "type", "ok", "error", "message"})
            _require(message["ok"] is False and _text(message["error"], _NAME) and message["error"].isidentifier()
                     and _text(message["message"], 4000), "a malformed error report")
    else:  # evidence, ended
        _keys(message, {"tag", "type", "items"})
        _require(isinstance(message["items"], list) and all(_text(i, 1000) for i in message["items"]),
                 "malformed evidence")
    return kind
