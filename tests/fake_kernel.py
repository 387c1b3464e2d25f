"""A fake grading kernel for the grader's tests: a thread on the two pipes, scripted to lie.

Each request it receives is answered by the next action of its script ("right" once the script
runs out): the right reply, or a wrong value, tag, type or field, garbage, a replay, an oversized
or deeply nested frame, a decompression bomb, a flood of helper requests, silence, or a closed pipe.
"""
from __future__ import annotations

import json
import os
import random
import struct
import threading
import time

from attnkit.grading.kernel import wire


def _frame(message: dict, arrays: list = ()) -> bytes:
    return wire.pack(message, list(arrays), wire.Bounds(json_bytes=1 << 30, reply_bytes=1 << 30))


class FakeKernel:
    """Answers each request with the action the script gives (then "right" once it runs out)."""

    def __init__(self, fds: tuple[int, int], actions: list[str], silence: float = 3.0,
                 values: dict | None = None) -> None:
        self.silence, self.values = silence, values or {"x": 3, "f": 4}
        self.r, self.w = os.dup(fds[0]), os.dup(fds[1])
        self.actions, self.sent, self.right_answers = list(actions), [], []
        self.returncode: int | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _reply(self, request: dict) -> dict:
        op, tag = request["op"], request["tag"]
        body = {"start": {"type": "started"}, "run": {"type": "ran", "outputs": [], "error": None},
                "evidence": {"type": "evidence", "items": []}, "end": {"type": "ended", "items": []}}.get(op)
        if op == "get":  # a name whose value is a number: a variable; "f", "check": functions
            value = self.values.get(request["name"])
            body = {"type": "value", "kind": "missing"} if value is None else \
                {"type": "value", "kind": "function"} if request["name"] in ("f", "check") else \
                {"type": "value", "kind": "value", "value": value}
        if op == "call":
            body = {"type": "called", "ok": True, "value": self.values.get(request["name"], 4)}
        return {"tag": tag, **body}

    def _serve(self) -> None:
        try:
            while True:
                request, _ = wire.receive(self.r, None, wire.Bounds())
                self._answer(request, self.actions.pop(0) if self.actions else "right")
        except (EOFError, OSError, wire.WireError, ValueError):
            pass
        finally:
            self.returncode = 0 if self.returncode is None else self.returncode

    def _write(self, data: bytes) -> None:
        self.sent.append(data)
        os.write(self.w, data)

    def _answer(self, request: dict, action: str) -> None:
        reply = self._reply(request)
        if action in ("right", "extra"):
            if request["op"] in ("get", "call") and reply.get("kind") != "function":
                self.right_answers.append(request.get("name"))
            self._write(_frame(reply))
            if action == "extra":
                self._write(_frame(reply))
        elif action == "wrong_value":
            self._write(_frame({**reply, "value": 5} if "value" in reply else reply))
        elif action == "wrong_tag":
            self._write(_frame({**reply, "tag": "f" * 24}))
        elif action == "wrong_type":
            wrong = [t for t in ("ran", "value", "called", "helper", 7) if t != reply.get("type")]
            self._write(_frame({**reply, "type": random.choice(wrong)}))
        elif action == "bad_field":
            self._write(_frame({**reply, "outputs": [{"output_type": "display_data", "data": {}}], "kind": 1}))
        elif action == "garbage":
            self._write(struct.pack("!II", 12, 0) + b"not json at ")
        elif action == "replay":
            self._write(self.sent[0] if self.sent else _frame(reply))
        elif action == "oversized":
            self._write(struct.pack("!II", 1 << 30, 0) + b"{")
        elif action == "deep":
            data = b'{"m": ' + b"[" * 5000 + b"]" * 5000 + b', "a": []}'
            self._write(struct.pack("!II", len(data), 0) + data)
        elif action == "bomb":
            data = json.dumps({"m": reply, "a": [{"dtype": "<f8", "shape": [1 << 40]}]}).encode()
            self._write(struct.pack("!II", len(data), 1024) + data + bytes(1024))
        elif action == "helper_flood":
            for _ in range(20):
                self._write(_frame({"tag": request["tag"], "type": "helper", "name": "softmax", "args": [],
                                    "kwargs": {"__dict__": {}}}))
        elif action == "silent":
            time.sleep(self.silence)
        elif action == "close":
            os.close(self.w)
            raise EOFError

    def wait(self, timeout: float | None = None) -> int:
        self.thread.join(timeout)
        return self.returncode if self.returncode is not None else 0

    def kill(self) -> None:
        self.returncode = -9
