"""``Judge``: its packaged prompts, the parsers of its replies, and its cache (a second question costs
the server nothing; an edited prompt or another model asks again; concurrent writers are safe)."""

from __future__ import annotations

import json
import threading

import pytest
from judge_doubles import FakeJudgeServer, user_text
from seethink_eval.judge import prompts
from seethink_eval.judge.cache import JudgeCache, NoCache, cache_key
from seethink_eval.judge.client import JudgeError, OpenAIClient
from seethink_eval.judge.judge import ErrorCase, Judge, parse_answer, parse_label


def judge_for(server: FakeJudgeServer, cache, model: str = "judge-model") -> Judge:
    return Judge(OpenAIClient(server.url, model, retries=0, sleep=lambda s: None), cache,
                 settings={"temperature": 0.0, "max_tokens": 64})


# --- prompts ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["extract", "label_error"])
def test_every_shipped_prompt_loads_and_has_both_messages(name):
    p = prompts.load(name)
    assert p.version >= 1 and p.tag == f"{name}.v{p.version}" and len(p.digest) == 64
    assert p.sections["system"] and p.sections["user"]


def test_a_prompt_fills_values_once_and_fragments_only_when_given():
    p = prompts.load("label_error")
    values = ErrorCase("What is {{gold}}? x = \\frac{1}{2}", "7", "I read 8 on the axis", facts="the axis says 7",
                       choices=("7", "8")).values()
    system, user = p.render(values)
    assert "{{" not in system
    assert "What is {{gold}}? x = \\frac{1}{2}" in user  # a value is never re-scanned
    assert "Correct answer: 7" in user and "A: 7\nB: 8" in user and "the axis says 7" in user
    assert "You cannot see the image" not in user
    _, blind = p.render(ErrorCase("q", "7", "r").values())
    assert "You cannot see the image" in blind and "Choices:" not in blind and "<image_facts>" not in blind


def test_a_missing_value_and_a_malformed_file_are_errors():
    with pytest.raises(prompts.PromptError, match="no value for"):
        prompts.load("extract").render({"question": "q"})
    with pytest.raises(prompts.PromptError, match="no '=== user ==='"):
        prompts.parse("x", 1, "=== system ===\nhi\n")
    with pytest.raises(prompts.PromptError, match="no judge prompt"):
        prompts.load("nonexistent")


# --- parsers ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("reply,label", [
    ("The model misread the length.\nLABEL: perception", "perception"),
    ("LABEL: Reasoning", "reasoning"),
    ("**LABEL:** perception", "perception"),
    ("Label: reasoning error.", "reasoning"),
    ("First I thought LABEL: perception\nbut no.\nLABEL: reasoning", "reasoning"),
    ("<think>LABEL: reasoning? maybe</think>\nLABEL: perception", "perception"),
    ("perception", "perception"),
    ("Reasoning.", "reasoning"),
    ("<think>it is LABEL: perception, I am fairly", None),  # a thought cut off says nothing
    ("It could be perception or reasoning.", None),
    ("LABEL: both", None),
    ("", None),
])
def test_parse_label(reply, label):
    assert parse_label(reply) == label


@pytest.mark.parametrize("reply,choices,answer", [
    ("ANSWER: 42", (), "42"),
    ("The response concludes x = 3.\nANSWER: $x = 3$", (), "$x = 3$"),
    ("answer: \\frac{1}{2} cm", (), "\\frac{1}{2} cm"),
    ("**ANSWER:** 12", (), "12"),
    ("ANSWER: NONE", (), None),
    ("ANSWER: none.", (), None),
    ("I cannot tell.", (), None),
    ("ANSWER: b", ("3", "4", "5"), "B: 4"),
    ("ANSWER: (C)", ("3", "4", "5"), "C: 5"),
    ("ANSWER: 4", ("3", "4", "5"), "B: 4"),  # named by its text
    ("ANSWER: B", ("yes", "no"), "B: no"),  # a yes/no reader finds the word, a letter reader the letter
    ("ANSWER: Z", ("3", "4"), "Z"),  # no such choice: kept as said
    ("<think>ANSWER: 1</think>ANSWER: 2", (), "2"),
])
def test_parse_answer(reply, choices, answer):
    assert parse_answer(reply, choices) == answer


# --- the judge and its cache -----------------------------------------------------------------------

def test_extract_is_an_answer_extractor_and_a_second_call_hits_no_server(tmp_path):
    with FakeJudgeServer(lambda body: "ANSWER: B") as server:
        judge = judge_for(server, JudgeCache(tmp_path))
        assert judge.extract("Which?", "I pick the second", ["red", "blue"]) == "B: blue"
        assert judge.extract("Which?", "I pick the second", ["red", "blue"]) == "B: blue"
        assert len(server.chats) == 1
        # a new judge (a new process, say) reads the same disk cache
        again = judge_for(server, JudgeCache(tmp_path))
        assert again.extract("Which?", "I pick the second", ("red", "blue")) == "B: blue"
        assert len(server.chats) == 1 and again.asked == 0 and again.cache.hits == 1
        assert "A: red\nB: blue" in user_text(server.chats[0]["body"])
        # other inputs, another model, or no cache: the server is asked
        judge.extract("Which?", "I pick the first", ["red", "blue"])
        judge_for(server, JudgeCache(tmp_path), model="other-model").extract("Which?", "I pick the second",
                                                                             ["red", "blue"])
        judge_for(server, NoCache()).extract("Which?", "I pick the second", ["red", "blue"])
        assert len(server.chats) == 4


def test_label_error_sends_the_case_and_parses_the_label(tmp_path):
    with FakeJudgeServer(lambda body: "It read 8 where the figure says 7.\nLABEL: perception") as server:
        judge = judge_for(server, JudgeCache(tmp_path))
        assert judge.label_error("What is AB?", "7", "AB looks like 8, so 8", facts="AB = 7") == "perception"
    text = user_text(server.chats[0]["body"])
    assert "What is AB?" in text and "AB looks like 8, so 8" in text and "AB = 7" in text
    assert server.chats[0]["body"]["temperature"] == 0.0


def test_the_cache_stores_the_raw_reply_so_an_unparsable_one_is_not_asked_again(tmp_path):
    with FakeJudgeServer(lambda body: "I would rather not say.") as server:
        judge = judge_for(server, JudgeCache(tmp_path))
        assert judge.label_error("q", "1", "2") is None
        assert judge.label_error("q", "1", "2") is None
    assert len(server.chats) == 1
    (stored,) = list(tmp_path.rglob("*.json"))
    data = json.loads(stored.read_text())
    assert data["reply"] == "I would rather not say." and data["prompt"].startswith("label_error.v")


def test_a_failed_request_raises_and_is_not_cached(tmp_path):
    with FakeJudgeServer(lambda body: (500, "{}")) as server:
        judge = judge_for(server, JudgeCache(tmp_path))
        with pytest.raises(JudgeError, match="HTTP 500"):
            judge.label_error("q", "1", "2")
    assert not list(tmp_path.rglob("*.json"))


def test_an_edited_prompt_misses_the_cache():
    p = prompts.load("label_error")
    edited = prompts.parse(p.name, p.version, "=== user ===\nsomething else {{question}}")
    inputs = {"question": "q"}
    assert cache_key("m", p.tag, p.digest, {}, inputs) != cache_key("m", edited.tag, edited.digest, {}, inputs)
    assert cache_key("m", p.tag, p.digest, {"temperature": 0}, inputs) != cache_key(
        "m", p.tag, p.digest, {"temperature": 1}, inputs)


def test_concurrent_writers_leave_whole_answers_and_no_temporary_files(tmp_path):
    cache = JudgeCache(tmp_path)
    keys = [cache_key("m", "t.v1", "d", {}, {"i": i % 10}) for i in range(200)]

    def write(start: int) -> None:
        for k in keys[start::8]:
            cache.put(k, f"reply for {k[:6]}" * 50)

    threads = [threading.Thread(target=write, args=(s,)) for s in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(cache.get(k) == f"reply for {k[:6]}" * 50 for k in keys)
    assert len(list(tmp_path.rglob("*.json"))) == 10
    assert not list(tmp_path.rglob("*.tmp"))


def test_a_corrupt_cache_file_is_a_miss(tmp_path):
    cache = JudgeCache(tmp_path)
    key = cache_key("m", "t.v1", "d", {}, {})
    cache.path(key).parent.mkdir(parents=True)
    cache.path(key).write_text("{not json")
    assert cache.get(key) is None
    cache.put(key, "fine")
    assert cache.get(key) == "fine"
