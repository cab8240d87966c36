"""The ``judge_split`` evaluator: which records it asks about, its metrics hand-computed, how it is built
from the registry and the environment, what a failing judge does, and the judge on a backend's generate."""

from __future__ import annotations

import dataclasses

import pytest
from judge_doubles import FakeJudgeServer, closed_port_url, user_text
from seethink_eval.judge.backend_client import BackendClient
from seethink_eval.judge.client import ChatRequest, JudgeError
from seethink_eval.judge.evaluator import JudgeSplit
from seethink_eval.judge.options import JudgeOptions

from seethink_core.hooks.backend import Completion
from seethink_core.hooks.manager import load_plugins
from seethink_core.hooks.registry import BackendSpec, Registry
from seethink_core.run.eval_types import EvalRecord, build_evaluators
from seethink_core.types.sample import Sample


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """Every test its own seethink cache, and no judge settings from the machine's environment."""
    monkeypatch.setenv("SEETHINK_CACHE", str(tmp_path / "cache"))
    for name in ("URL", "MODEL", "CLIENT", "BACKEND"):
        monkeypatch.delenv(f"SEETHINK_JUDGE_{name}", raising=False)


def record(i: int, response: str, *, right: bool = False, capability: str = "visual_reasoning",
           facts_correct: bool | None = None, set_name: str = "mathtoy") -> EvalRecord:
    sample = Sample(id=f"s{i}", prompt=f"question {i}", answer=str(i), capability=capability,
                    facts=f"facts {i}" if facts_correct is not None else None)
    return EvalRecord(sample, set_name, [Completion(f"#{i} {response}", 10)], [right], [1.0 if right else 0.0],
                      facts_correct=facts_correct)


def by_response(body) -> str:
    """The fake judge's verdict: from what the response (between the prompt's <response> tags) says it did."""
    text = user_text(body)
    if "<response>" in text:
        text = text.split("<response>", 1)[1].split("</response>", 1)[0]
    if "misread" in text:
        return "The figure was misread.\nLABEL: perception"
    if "miscalc" in text:
        return "LABEL: reasoning"
    return "I cannot decide."


def options(url: str, **kw) -> JudgeOptions:
    return JudgeOptions(url=url, model="judge-model", retries=0, **kw)


def test_the_shares_are_those_of_the_labelled_wrong_visual_math_answers():
    records = (
        [record(i, "misread the axis") for i in range(6)]                   # 6 perception
        + [record(6 + i, "miscalculated the sum") for i in range(3)]        # 3 reasoning
        + [record(9, "rambles")]                                             # 1 unparsable
        + [record(10, "misread", right=True), record(11, "miscalc", right=True)]   # right: not asked
        + [record(12, "misread", capability="perception")]                   # not visual math: not asked
    )
    with FakeJudgeServer(by_response) as server:
        got = JudgeSplit(options(server.url))(records)
    assert len(server.chats) == 10
    assert got == {
        "judge.errors": 10.0, "judge.perception_errors": 6.0, "judge.reasoning_errors": 3.0,
        "judge.unparsable": 1.0, "judge.failed": 0.0,
        "judge.perception_share": 6 / 9, "judge.reasoning_share": 3 / 9,
        "judge.perception_share.visual_reasoning": 6 / 9,
    }


def test_capabilities_and_sets_choose_the_records_and_agreement_compares_with_the_facts_split():
    records = [
        record(0, "misread", facts_correct=True),     # split: perception, judge: perception -> agree
        record(1, "misread", facts_correct=False),    # split: reasoning, judge: perception -> disagree
        record(2, "miscalc", facts_correct=False),    # split: reasoning, judge: reasoning -> agree
        record(3, "miscalc"),                         # no facts pass: not in the agreement
        record(4, "misread", capability="perception", set_name="percy"),
        record(5, "miscalc", capability="chart", set_name="charts"),
    ]
    with FakeJudgeServer(by_response) as server:
        got = JudgeSplit(options(server.url, capabilities=[], sets=[]))(records)  # empty: every wrong answer
        assert len(server.chats) == 6
        assert got["judge.perception_share"] == 3 / 6
        assert got["judge.perception_share.perception"] == 1.0 and got["judge.perception_share.chart"] == 0.0
        assert got["judge.perception_share.visual_reasoning"] == 2 / 4
        assert got["judge.split_agreement"] == 2 / 3
        picked = JudgeSplit(options(server.url, capabilities=["chart"], sets=["percy"]))(records)
    assert picked["judge.errors"] == 2.0 and picked["judge.perception_share"] == 0.5


def test_no_wrong_answer_asks_nothing_and_reports_nothing():
    with FakeJudgeServer(by_response) as server:
        split = JudgeSplit(options(server.url))
        assert split([]) == {}
        assert split([record(0, "misread", right=True)]) == {}
    assert server.requests == []


def test_a_second_evaluation_of_the_same_answers_is_answered_from_the_cache():
    records = [record(i, "misread") for i in range(4)]
    with FakeJudgeServer(by_response) as server:
        first = JudgeSplit(options(server.url))(records)
        second = JudgeSplit(options(server.url))(records)
        assert first == second and len(server.chats) == 4
        JudgeSplit(options(server.url, cache=False))(records)
        assert len(server.chats) == 8


def test_it_is_registered_with_its_options_and_built_from_the_environment(monkeypatch):
    reg = load_plugins().registry
    spec = reg.get("evaluator", "judge_split")
    assert reg.plugin_of("evaluator", "judge_split") == "eval" and spec.options is JudgeOptions and spec.doc
    (loaded,) = build_evaluators(["judge_split"], reg)
    assert loaded.fn([]) == {} and loaded.needs == frozenset()
    with FakeJudgeServer(by_response, models=("served-judge",)) as server:
        monkeypatch.setenv("SEETHINK_JUDGE_URL", server.url)  # no model: the server's own is asked for
        got = loaded.fn([record(0, "miscalc"), record(1, "misread")])
    assert got["judge.reasoning_share"] == 0.5
    assert [r["path"] for r in server.requests][0] == "/v1/models"
    assert {r["body"]["model"] for r in server.chats} == {"served-judge"}


def test_an_option_set_in_the_file_wins_over_the_environment(monkeypatch):
    from seethink_eval.judge.options import resolved

    monkeypatch.setenv("SEETHINK_JUDGE_MODEL", "from-env")
    monkeypatch.setenv("SEETHINK_JUDGE_CLIENT", "backend")
    assert resolved(JudgeOptions()).model == "from-env" and resolved(JudgeOptions()).client == "backend"
    assert resolved(JudgeOptions(model="mine")).model == "mine"
    monkeypatch.setenv("SEETHINK_JUDGE_CLIENT", "carrier-pigeon")
    with pytest.raises(Exception, match="must be 'http' or 'backend'"):
        resolved(JudgeOptions())


def test_a_failing_judge_stops_the_evaluation_or_is_counted_with_skip():
    records = [record(i, "misread") for i in range(3)]
    with FakeJudgeServer(lambda body: (500, '{"error": {"message": "down"}}')) as server:
        with pytest.raises(JudgeError, match="HTTP 500"):
            JudgeSplit(options(server.url))(records)
        got = JudgeSplit(options(server.url, on_error="skip"))(records)
    assert got["judge.failed"] == 3.0 and got["judge.unparsable"] == 0.0 and "judge.perception_share" not in got


def test_a_failing_judge_is_not_asked_about_every_record_before_the_evaluation_stops():
    records = [record(i, "misread") for i in range(70)]
    with FakeJudgeServer(lambda body: (500, "{}")) as server:
        with pytest.raises(JudgeError, match="HTTP 500"):
            JudgeSplit(options(server.url, concurrency=2))(records)
    assert len(server.chats) == 8  # one round of 4 x concurrency


def test_an_unreachable_judge_is_not_asked_again_for_every_record():
    records = [record(i, "misread") for i in range(70)]  # more than one chunk (64)
    split = JudgeSplit(JudgeOptions(url=closed_port_url(), model="m", retries=0, on_error="skip", concurrency=1))
    got = split(records)
    assert got["judge.failed"] == 70.0
    with pytest.raises(JudgeError, match="did not answer"):
        JudgeSplit(dataclasses.replace(split.options, on_error="fail"))(records[:1])


# --- the judge on a backend's generate -------------------------------------------------------------

class FakeGenerator:
    def __init__(self, options):
        self.options = options
        self.calls: list[dict] = []
        self.closed = False

    def generate(self, model, samples, *, n=1, temperature=1.0, top_p=1.0, max_new_tokens=256,
                 prompt_template=None, use_facts=False, system_prompt=None, image_bounds=None):
        self.calls.append({"model": model.path, "n": n, "temperature": temperature, "template": prompt_template,
                           "system": system_prompt, "prompts": [s.prompt for s in samples],
                           "images": [s.images for s in samples], "max_new_tokens": max_new_tokens})
        return [[Completion(by_response({"messages": [{"role": "user", "content": s.prompt}]}), 5)]
                for s in samples]

    def close(self):
        self.closed = True


def fake_registry(features=frozenset({"generate"})) -> Registry:
    reg = Registry()
    reg.add("backend", BackendSpec(name="fakegen", factory=FakeGenerator, features=features), "test")
    return reg


def test_the_backend_client_sends_every_request_in_one_greedy_generate_call():
    client = BackendClient("fakegen", "/models/judge", registry=fake_registry(), max_tokens=99)
    got = client.complete_many([ChatRequest("sys", "he misread it"), ChatRequest("sys", "he miscalculated")])
    assert got == ["The figure was misread.\nLABEL: perception", "LABEL: reasoning"]
    (call,) = client._generator.calls
    assert call == {"model": "/models/judge", "n": 1, "temperature": 0.0, "template": "{question}", "system": "sys",
                    "prompts": ["he misread it", "he miscalculated"], "images": [[], []], "max_new_tokens": 99}
    generator = client._generator
    client.close()
    assert generator.closed and client.name == "fakegen:/models/judge"


def test_a_backend_that_cannot_generate_is_one_clear_error():
    client = BackendClient("fakegen", "m", registry=fake_registry(features=frozenset()))
    with pytest.raises(JudgeError, match="cannot generate"):
        client.complete_many([ChatRequest("", "x")])


def test_the_evaluator_on_a_backend_needs_a_model(monkeypatch):
    with pytest.raises(JudgeError, match="needs a model"):
        JudgeSplit(JudgeOptions(client="backend"))([record(0, "misread")])


def fakegen_plugin():
    import types

    from seethink_core.hooks.hookspecs import hookimpl

    def register_backends(register):
        register(BackendSpec(name="fakegen", factory=FakeGenerator, features=frozenset({"generate"})))

    ns = types.SimpleNamespace(__name__="judge_fakegen_plugin")
    ns.register_backends = hookimpl(register_backends)
    return ns


def test_the_evaluator_on_a_backend_opens_it_through_the_registry(with_plugins):
    with_plugins(("judge_fakegen", fakegen_plugin()))
    records = [record(0, "misread"), record(1, "misread"), record(2, "miscalc")]
    got = JudgeSplit(JudgeOptions(client="backend", backend="fakegen", model="/judge/model"))(records)
    assert got["judge.perception_share"] == 2 / 3 and got["judge.errors"] == 3.0


def test_the_answer_extractor_factory_serves_the_rule_based_extraction(monkeypatch):
    """``SEETHINK_JUDGE=seethink_eval.judge.evaluator:answer_extractor``: the scorers' rules find no letter
    in a rambling answer, and the judge (configured by SEETHINK_JUDGE_*) is asked instead."""
    from seethink_eval.extraction import Extraction
    from seethink_eval.judge.evaluator import answer_extractor

    with FakeJudgeServer(lambda body: "ANSWER: the second one") as server:
        monkeypatch.setenv("SEETHINK_JUDGE_URL", server.url)
        monkeypatch.setenv("SEETHINK_JUDGE_MODEL", "judge-model")
        extraction = Extraction(answer_extractor())
        assert extraction.letter("Which colour?", "Hmm, hard to say, maybe blue, I would go with that",
                                 ["red", "blue"]) is None  # "the second one" names no choice
    def answer(body):
        return "ANSWER: A" if "A: yes" in user_text(body) else "ANSWER: blue"

    with FakeJudgeServer(answer) as server:
        monkeypatch.setenv("SEETHINK_JUDGE_URL", server.url)
        extraction = Extraction(answer_extractor())
        assert extraction.letter("Which colour?", "I would go with the sky's colour", ["red", "blue"]) == "B"
        assert extraction.yes_no("Is it round?", "Hard to tell, I lean towards it being so") == "yes"
    assert len(server.chats) == 2


def test_in_an_evaluation_the_judge_labels_the_wrong_visual_reasoning_answers(eval_plugins, tmp_path, monkeypatch):
    """``run_eval`` with ``perception_split`` and ``judge_split`` on the toy set: every answer from the image
    is wrong, the facts pass right for even answers; this judge reads the parity off the facts it is shown,
    so it agrees with the split on each of the 10 visual-reasoning items (i = 1, 4, ..., 28)."""
    import re

    from eval_doubles import ScriptedGenerator

    from seethink_core.hooks.backend import Checkpoint
    from seethink_core.run.eval_types import EvalSettings
    from seethink_core.run.evaluation import run_eval
    from seethink_core.types.plan import DataRef, EvalSpec, RewardRef

    def parity(body):
        dots = int(re.search(r"there are (\d+) dots", user_text(body)).group(1))
        return "LABEL: perception" if dots % 2 == 0 else "LABEL: reasoning"

    gen = ScriptedGenerator(image_right=lambda m, s, j: False, facts_right=lambda s: int(s.answer) % 2 == 0)
    with FakeJudgeServer(parity) as server:
        monkeypatch.setenv("SEETHINK_JUDGE_URL", server.url)
        monkeypatch.setenv("SEETHINK_JUDGE_MODEL", "judge-model")
        metrics = run_eval(None, None, Checkpoint("model-a"), gen, eval_plugins.registry, tmp_path / "eval.json",
                           label="x", spec=EvalSpec(sets=[DataRef("evaltoy", {"count": 30})],
                                                    evaluators=["perception_split", "judge_split"]),
                           rewards=[RewardRef("accuracy")], settings=EvalSettings(reward_timeout=None))
    asked = sorted(int(re.search(r"how many dots\? \((\d+)\)", user_text(r["body"])).group(1)) for r in server.chats)
    assert asked == list(range(1, 30, 3))
    assert metrics["judge.errors"] == 10 and metrics["judge.perception_errors"] == 5
    assert metrics["judge.perception_share"] == 0.5 and metrics["judge.split_agreement"] == 1.0
    assert metrics["judge.perception_share.visual_reasoning"] == 0.5
