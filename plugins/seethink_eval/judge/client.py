"""How the judge talks to a model: an OpenAI-compatible ``/v1/chat/completions`` endpoint over urllib.

Any server that speaks that API will do: a local ``vllm serve``, llama.cpp's server, a hosted API. The
standard library is enough (no new dependency): one POST per request, a timeout, and retries with
exponential backoff on what a retry can fix (connection errors, timeouts, 408, 429 and 5xx). Every
failure the user sees is one line: what was asked of whom, and what came back.

The API key is read from an environment variable whose *name* is an option; the key itself is never
an option, never written to a file and never part of an error message.
"""

from __future__ import annotations

import http.client
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from seethink_core.run.eval_types import EvalError

RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
MAX_BACKOFF_S = 30.0


class JudgeError(EvalError):
    """The judge could not answer: unreachable, refused, or replied with something that is no chat reply."""


class Unreachable(JudgeError):
    """No answer at all (connection refused, DNS, timeout) after every retry: the next call would fail too."""


@dataclass(frozen=True)
class ChatRequest:
    system: str
    user: str
    images: tuple[Any, ...] = ()  # a sample's images (paths, bytes, PIL), for a vision judge


class ChatClient(Protocol):
    """What the judge needs of a model: replies to chat requests, in order; a failed request's place
    holds its ``JudgeError`` so one bad request does not lose the others."""

    name: str  # what the cache keys on: the model, not where it is served

    def complete_many(self, requests: Sequence[ChatRequest]) -> list[str | JudgeError]: ...

    def close(self) -> None: ...


def chat_url(base: str) -> str:
    """The chat-completions URL of a server given as ``http://host:port``, ``.../v1`` or the full URL."""
    base = base.rstrip("/")
    if base.endswith("/chat/completions"):
        return base
    if not base.endswith("/v1"):
        base += "/v1"
    return base + "/chat/completions"


def reply_text(body: Any) -> str:
    """The first choice's message text of a chat-completions response, or ``ValueError`` saying what is wrong."""
    if not isinstance(body, dict):
        raise ValueError(f"the reply is {type(body).__name__}, not a JSON object")
    if "error" in body and "choices" not in body:
        err = body["error"]
        message = err.get("message", err) if isinstance(err, dict) else err
        raise ValueError(f"the server answered with an error: {message}")
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise ValueError("the reply has no 'choices'")
    message = choices[0].get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, list):  # some servers return content parts
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    if not isinstance(content, str):
        raise ValueError("the reply's first choice has no message content")
    return content


@dataclass
class OpenAIClient:
    """Chat completions from an OpenAI-compatible server. ``sleep`` is injectable so tests need not wait."""

    url: str
    model: str
    api_key_env: str = ""
    temperature: float = 0.0
    max_tokens: int = 512
    timeout: float = 60.0
    retries: int = 3
    backoff: float = 1.0
    concurrency: int = 4
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    @property
    def name(self) -> str:
        return self.model

    def complete_many(self, requests: Sequence[ChatRequest]) -> list[str | JudgeError]:
        if len(requests) <= 1 or self.concurrency <= 1:
            return [self._guarded(r) for r in requests]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(requests))) as pool:
            return list(pool.map(self._guarded, requests))

    def complete(self, request: ChatRequest) -> str:
        """One reply, or the ``JudgeError`` of the last try."""
        endpoint = chat_url(self.url)
        user: str | list[dict[str, Any]] = request.user
        if request.images:  # OpenAI's vision format: the images first, as in seethink's own prompts
            from seethink_eval.judge.images import data_url

            user = [{"type": "image_url", "image_url": {"url": data_url(i)}} for i in request.images]
            user.append({"type": "text", "text": request.user})
        payload = {"model": self.model, "temperature": self.temperature, "max_tokens": self.max_tokens,
                   "messages": ([{"role": "system", "content": request.system}] if request.system else [])
                   + [{"role": "user", "content": user}]}
        data = json.dumps(payload).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        if key:
            headers["Authorization"] = f"Bearer {key}"
        last = ""
        asked_wait = 0.0  # a server's Retry-After, in seconds
        for attempt in range(self.retries + 1):
            if attempt:
                self.sleep(min(max(self.backoff * 2 ** (attempt - 1), asked_wait), MAX_BACKOFF_S))
            try:
                req = urllib.request.Request(endpoint, data=data, headers=headers, method="POST")
                with _opener(endpoint).open(req, timeout=self.timeout) as resp:
                    raw = resp.read()
            except urllib.error.HTTPError as e:
                detail = _error_detail(e)
                if e.code in (401, 403):
                    hint = (f"set ${self.api_key_env} to the server's API key" if self.api_key_env and not key
                            else "check the API key the server expects")
                    raise JudgeError(f"judge at {endpoint} refused the request: HTTP {e.code}{detail}",
                                     hint=hint) from None
                if e.code not in RETRY_STATUS:
                    raise JudgeError(f"judge at {endpoint} rejected the request: HTTP {e.code}{detail}",
                                     hint=f"is '{self.model}' the name the server serves?"
                                     if e.code in (400, 404) else None) from None
                last = f"HTTP {e.code}{detail}"
                asked_wait = _retry_after(e.headers.get("Retry-After") if e.headers else None)
                continue
            except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as e:
                reason = getattr(e, "reason", e)
                last = "timed out" if isinstance(reason, TimeoutError) else f"{reason}"
                if attempt == self.retries:
                    raise Unreachable(f"judge at {endpoint} did not answer: {last} "
                                      f"({self.retries + 1} tries)",
                                      hint="start the server, or point the judge's url at one") from None
                continue
            try:
                return reply_text(json.loads(raw.decode("utf-8")))
            except (UnicodeDecodeError, ValueError) as e:
                # A malformed reply is not retried: the same server would most likely send it again.
                raise JudgeError(f"judge at {endpoint} sent a malformed reply: {e}") from None
        raise JudgeError(f"judge at {endpoint} failed: {last} ({self.retries + 1} tries)")

    def _guarded(self, request: ChatRequest) -> str | JudgeError:
        try:
            return self.complete(request)
        except JudgeError as e:
            return e

    def close(self) -> None:
        pass


def _opener(url: str) -> urllib.request.OpenerDirector:
    """urllib's opener; for a server on this machine without the environment's proxy (a proxy set for
    the internet would otherwise be asked for 127.0.0.1 unless no_proxy happens to name it)."""
    host = urllib.parse.urlsplit(url).hostname or ""
    if host in ("localhost", "::1") or host.startswith("127."):
        return urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener()


def _retry_after(value: str | None) -> float:
    """Seconds from a ``Retry-After`` header given in seconds (a date, or nothing: 0)."""
    try:
        return max(0.0, float(value)) if value else 0.0
    except ValueError:
        return 0.0


def _error_detail(e: urllib.error.HTTPError) -> str:
    """The first line of an error body's message, briefly (servers explain a 400 there)."""
    try:
        body = e.read().decode("utf-8", "replace")
    except OSError:
        return ""
    try:
        parsed = json.loads(body)
        err = parsed.get("error", parsed) if isinstance(parsed, dict) else parsed
        body = str(err.get("message", err) if isinstance(err, dict) else err)
    except ValueError:
        pass
    body = " ".join(body.split())
    return f" ({body[:200]})" if body else ""


def models_url(base: str) -> str:
    """The ``/v1/models`` URL that goes with a chat URL or a server address."""
    chat = chat_url(base)
    return chat[: -len("/chat/completions")] + "/models"


def served_model(base: str, *, api_key_env: str = "", timeout: float = 10.0) -> str:
    """The first model a server lists at ``/v1/models`` (a ``vllm serve`` serves exactly one)."""
    endpoint = models_url(base)
    headers = {"Accept": "application/json"}
    key = os.environ.get(api_key_env) if api_key_env else None
    if key:
        headers["Authorization"] = f"Bearer {key}"
    hint = "name the model: option 'model' or $SEETHINK_JUDGE_MODEL"
    try:
        with _opener(endpoint).open(urllib.request.Request(endpoint, headers=headers), timeout=timeout) as resp:
            body = json.loads(resp.read().decode("utf-8"))
    except urllib.error.HTTPError as e:
        raise JudgeError(f"judge at {endpoint} lists no models: HTTP {e.code}{_error_detail(e)}", hint=hint) from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
        raise Unreachable(f"judge at {endpoint} did not answer: {getattr(e, 'reason', e)}",
                          hint="start the server, or point the judge's url at one") from None
    except ValueError as e:
        raise JudgeError(f"judge at {endpoint} sent a malformed model list: {e}", hint=hint) from None
    data = body.get("data") if isinstance(body, dict) else None
    ids = [m.get("id") for m in data if isinstance(m, dict)] if isinstance(data, list) else []
    ids = [i for i in ids if isinstance(i, str) and i]
    if not ids:
        raise JudgeError(f"judge at {endpoint} lists no models", hint=hint)
    return ids[0]
