"""The judge's OpenAI-compatible client against a fake server on localhost: the request it sends,
retries with backoff on what a retry can fix, one-line errors for the rest, the API key from the env."""

from __future__ import annotations

import pytest
from judge_doubles import FakeJudgeServer, closed_port_url
from seethink_eval.judge.client import (
    ChatRequest,
    JudgeError,
    OpenAIClient,
    Unreachable,
    chat_url,
    served_model,
)

REQ = ChatRequest("be strict", "is it wrong?")


def client(url: str, **kw) -> tuple[OpenAIClient, list[float]]:
    slept: list[float] = []
    kw.setdefault("retries", 3)
    return OpenAIClient(url, "judge-model", sleep=slept.append, **kw), slept


def test_the_request_is_an_openai_chat_completion_and_the_reply_its_message():
    with FakeJudgeServer(lambda body: "LABEL: reasoning") as server:
        c, slept = client(server.url, max_tokens=77, temperature=0.0)
        assert c.complete(REQ) == "LABEL: reasoning"
    (req,) = server.chats
    assert req["path"] == "/v1/chat/completions"
    assert req["body"] == {"model": "judge-model", "temperature": 0.0, "max_tokens": 77,
                           "messages": [{"role": "system", "content": "be strict"},
                                        {"role": "user", "content": "is it wrong?"}]}
    assert "Authorization" not in req["headers"]
    assert slept == []


@pytest.mark.parametrize("base,expected", [
    ("http://h:1", "http://h:1/v1/chat/completions"),
    ("http://h:1/", "http://h:1/v1/chat/completions"),
    ("http://h:1/v1", "http://h:1/v1/chat/completions"),
    ("http://h:1/v1/chat/completions", "http://h:1/v1/chat/completions"),
])
def test_the_url_may_be_the_server_its_v1_or_the_full_endpoint(base, expected):
    assert chat_url(base) == expected


def test_the_api_key_comes_from_the_named_environment_variable(monkeypatch):
    monkeypatch.setenv("MY_JUDGE_KEY", "sk-test-123")
    with FakeJudgeServer(lambda body: "ok") as server:
        c, _ = client(server.url, api_key_env="MY_JUDGE_KEY")
        c.complete(REQ)
    assert server.chats[0]["headers"]["Authorization"] == "Bearer sk-test-123"


def test_a_500_is_retried_with_exponential_backoff_until_it_answers():
    calls = []

    def answer(body):
        calls.append(1)
        return (500, '{"error": {"message": "busy"}}') if len(calls) <= 2 else "LABEL: perception"

    with FakeJudgeServer(answer) as server:
        c, slept = client(server.url, backoff=0.5)
        assert c.complete(REQ) == "LABEL: perception"
    assert len(server.chats) == 3
    assert slept == [0.5, 1.0]


def test_a_429_waits_as_long_as_the_server_asks():
    replies = iter([(429, "{}", {"Retry-After": "5"}), (429, "{}", {"Retry-After": "soon"}), "fine"])
    with FakeJudgeServer(lambda body: next(replies)) as server:
        c, slept = client(server.url, backoff=0.5)
        assert c.complete(REQ) == "fine"
    assert slept == [5.0, 1.0]  # the server's wait, then (a date it did not give in seconds) the backoff


def test_a_server_on_this_machine_is_reached_without_the_environments_proxy(monkeypatch):
    proxy = closed_port_url().removesuffix("/v1")
    for name in ("http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(name, proxy)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    with FakeJudgeServer(lambda body: "direct") as server:
        c, _ = client(server.url, retries=0)
        assert c.complete(REQ) == "direct"


def test_a_500_every_time_fails_after_the_retries_in_one_line():
    with FakeJudgeServer(lambda body: (503, '{"error": {"message": "overloaded"}}')) as server:
        c, slept = client(server.url, retries=2, backoff=1.0)
        with pytest.raises(JudgeError) as e:
            c.complete(REQ)
    assert len(server.chats) == 3 and slept == [1.0, 2.0]
    message = str(e.value)
    assert "HTTP 503" in message and "overloaded" in message and "3 tries" in message
    assert "Traceback" not in message and len(message.splitlines()) <= 2  # the line and its hint at most


@pytest.mark.parametrize("status", [400, 404, 422])
def test_a_client_error_is_not_retried(status):
    with FakeJudgeServer(lambda body: (status, '{"error": {"message": "model not found"}}')) as server:
        c, slept = client(server.url)
        with pytest.raises(JudgeError, match=f"HTTP {status}.*model not found"):
            c.complete(REQ)
    assert len(server.chats) == 1 and slept == []


def test_a_refused_key_names_the_variable_to_set_and_never_the_key(monkeypatch):
    monkeypatch.delenv("JUDGE_KEY_UNSET", raising=False)
    with FakeJudgeServer(lambda body: (401, '{"error": {"message": "bad key"}}')) as server:
        c, _ = client(server.url, api_key_env="JUDGE_KEY_UNSET")
        with pytest.raises(JudgeError) as e:
            c.complete(REQ)
    assert "HTTP 401" in str(e.value) and "$JUDGE_KEY_UNSET" in str(e.value)
    monkeypatch.setenv("JUDGE_KEY_SET", "sk-secret-value")
    with FakeJudgeServer(lambda body: (403, "{}")) as server:
        c, _ = client(server.url, api_key_env="JUDGE_KEY_SET")
        with pytest.raises(JudgeError) as e:
            c.complete(REQ)
    assert "sk-secret-value" not in str(e.value)


@pytest.mark.parametrize("raw,why", [
    ("this is not json", "malformed reply"),
    ('{"choices": []}', "no 'choices'"),
    ('{"choices": [{"message": {"role": "assistant"}}]}', "no message content"),
    ('[1, 2]', "not a JSON object"),
    ('{"error": {"message": "context too long"}}', "context too long"),
])
def test_a_malformed_reply_is_one_error_and_not_retried(raw, why):
    with FakeJudgeServer(lambda body: (200, raw)) as server:
        c, slept = client(server.url)
        with pytest.raises(JudgeError, match=why):
            c.complete(REQ)
    assert len(server.chats) == 1 and slept == []


def test_content_given_as_parts_is_joined():
    parts = '{"choices": [{"message": {"content": [{"type": "text", "text": "LABEL: "}, {"text": "reasoning"}]}}]}'
    with FakeJudgeServer(lambda body: (200, parts)) as server:
        c, _ = client(server.url)
        assert c.complete(REQ) == "LABEL: reasoning"


def test_no_server_is_unreachable_after_the_retries():
    c, slept = client(closed_port_url(), retries=1, backoff=0.25)
    with pytest.raises(Unreachable, match="did not answer.*2 tries"):
        c.complete(REQ)
    assert slept == [0.25]


def test_a_slow_server_times_out_and_is_retried():
    with FakeJudgeServer(lambda body: 1.0) as server:
        c, slept = client(server.url, retries=1, timeout=0.2)
        with pytest.raises(Unreachable, match="timed out"):
            c.complete(REQ)
    assert len(server.chats) == 2


def test_complete_many_keeps_the_order_and_hands_back_each_failure_in_its_place():
    def answer(body):
        text = next(m["content"] for m in body["messages"] if m["role"] == "user")
        return (400, "{}") if text == "bad" else f"echo {text}"

    with FakeJudgeServer(answer) as server:
        c, _ = client(server.url, concurrency=4)
        got = c.complete_many([ChatRequest("", t) for t in ("a", "bad", "c", "d", "e")])
    assert got[0] == "echo a" and got[2:] == ["echo c", "echo d", "echo e"]
    assert isinstance(got[1], JudgeError)
    # no system message when the system prompt is empty
    assert all(len(r["body"]["messages"]) == 1 for r in server.chats)


def test_the_served_model_is_the_first_one_listed():
    with FakeJudgeServer(lambda body: "x", models=("Qwen/Qwen3-8B", "other")) as server:
        assert served_model(server.url) == "Qwen/Qwen3-8B"
    with FakeJudgeServer(lambda body: "x", models=()) as server:
        with pytest.raises(JudgeError, match="lists no models"):
            served_model(server.url)
    with pytest.raises(Unreachable):
        served_model(closed_port_url(), timeout=2)
