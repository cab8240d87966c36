"""Test doubles for the judge: an OpenAI-compatible server on localhost (``http.server`` in a thread)
whose replies a test scripts, and which records every request it got.

``FakeJudgeServer(answer)``: ``answer(body) -> reply`` where ``body`` is the request's JSON and the
reply is a string (sent as the chat message), a ``(status, text)`` pair (sent as the raw body with
that status; ``(status, text, headers)`` adds headers), or a ``float`` (seconds to sleep before
answering ``"LABEL: perception"``, to test timeouts). ``/v1/models`` lists ``models``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = str | tuple[int, str] | tuple[int, str, dict[str, str]] | float


def chat_body(content: str, model: str = "judge-model") -> str:
    return json.dumps({"id": "x", "object": "chat.completion", "model": model,
                       "choices": [{"index": 0, "finish_reason": "stop",
                                    "message": {"role": "assistant", "content": content}}]})


def user_text(body: dict[str, Any]) -> str:
    return next(m["content"] for m in body["messages"] if m["role"] == "user")


class FakeJudgeServer:
    def __init__(self, answer: Callable[[dict[str, Any]], Reply], models: tuple[str, ...] = ("judge-model",)):
        self.answer = answer
        self.models = models
        self.requests: list[dict[str, Any]] = []  # {"path", "headers", "body"}
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep the test output quiet
                pass

            def _send(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
                data = text.encode("utf-8")
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                try:
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (the timeout tests)
                    pass

            def do_GET(self) -> None:
                with server._lock:
                    server.requests.append({"path": self.path, "headers": dict(self.headers), "body": None})
                if self.path.rstrip("/").endswith("/v1/models"):
                    self._send(200, json.dumps({"object": "list",
                                                "data": [{"id": m, "object": "model"} for m in server.models]}))
                else:
                    self._send(404, '{"error": {"message": "not found"}}')

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length).decode("utf-8"))
                with server._lock:
                    server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if not self.path.endswith("/v1/chat/completions"):
                    self._send(404, '{"error": {"message": "no such route"}}')
                    return
                reply = server.answer(body)
                if isinstance(reply, float):
                    time.sleep(reply)
                    reply = "LABEL: perception"
                if isinstance(reply, tuple):
                    self._send(*reply)
                else:
                    self._send(200, chat_body(reply, body.get("model", "")))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def chats(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["body"] is not None]

    def __enter__(self) -> FakeJudgeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def closed_port_url() -> str:
    """A localhost URL nothing listens on (a port bound and released)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
