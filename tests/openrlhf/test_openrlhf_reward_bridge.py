"""The generated reward file, imported the way OpenRLHF imports it and called with realistic inputs.

``SingleTurnAgentExecutor`` (openrlhf/utils/agent.py) loads ``--reward.remote_url`` with
``spec_from_file_location`` and calls ``reward_func([query], [prompt], [label])`` where the query is
the decoded prompt+response *with special tokens* and, for a VLM, the image pad token expanded once
per patch, while the prompt has one pad per image.
"""

from __future__ import annotations

import importlib.util
import json

import pytest
from seethink_openrlhf.options import QWEN_ASSISTANT_MARKER
from seethink_openrlhf.reward_bridge import isolate_response, write_reward_file

from seethink_core.samples.labels import encode_label

SYSTEM = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"


def chat_prompt(question: str, pads: int) -> str:
    image = "<|vision_start|>" + "<|image_pad|>" * pads + "<|vision_end|>" if pads else ""
    return f"{SYSTEM}<|im_start|>user\n{image}{question}<|im_end|>\n{QWEN_ASSISTANT_MARKER}"


def load_reward_func(path):
    spec = importlib.util.spec_from_file_location("reward_func", path)  # as OpenRLHF does
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.reward_func


@pytest.fixture
def reward_func(fake_rewards, orl, tmp_path):
    phase = orl.make_phase("grpo")
    path = write_reward_file(phase, tmp_path / "reward_func.py", marker=QWEN_ASSISTANT_MARKER, timeout=None)
    return load_reward_func(path)


def label(orl, answer: str = "3") -> str:
    sample = orl.image_samples(4)[3]
    sample.answer = answer
    return encode_label(sample, ["/data/img.png"])


def values(x) -> list[float]:
    return [float(v) for v in x]


def test_file_is_readable_and_self_describing(fake_rewards, orl, tmp_path):
    path = write_reward_file(orl.make_phase("grpo", name="perception"), tmp_path / "r.py",
                             marker=QWEN_ASSISTANT_MARKER)
    text = path.read_text()
    assert "phase 'perception'" in text and "0.9·fake_boxed + 0.1·fake_think" in text
    assert "def reward_func(queries, prompts, labels, **kwargs):" in text
    compile(text, str(path), "exec")


def test_vlm_query_with_expanded_image_tokens(reward_func, orl):
    prompt = chat_prompt("How many circles?", pads=1)
    response = "<think>I count three.</think> The answer is \\boxed{3}<|im_end|>"
    query = chat_prompt("How many circles?", pads=64) + response  # the processor expanded the pads
    out = reward_func([query], [prompt], [label(orl)])
    assert set(out) == {"rewards", "scores", "extra_logs"}
    assert values(out["rewards"]) == pytest.approx([1.0])
    assert values(out["scores"]) == pytest.approx([1.0])
    logs = {k: values(v) for k, v in out["extra_logs"].items()}
    assert logs == {"reward_fake_boxed": [1.0], "reward_fake_think": [1.0], "reward_malformed": [0.0],
                    "reward_failure_rate/fake_boxed": [0.0], "reward_failure_rate/fake_think": [0.0]}


def test_components_are_weighted(reward_func, orl):
    prompt = chat_prompt("q", pads=1)
    wrong_but_formatted = chat_prompt("q", pads=16) + "<think>hm</think> \\boxed{4}<|im_end|>"
    right_unformatted = chat_prompt("q", pads=16) + "\\boxed{3}<|im_end|><|endoftext|>"
    out = reward_func([wrong_but_formatted, right_unformatted], [prompt, prompt], [label(orl), label(orl)])
    assert values(out["rewards"]) == pytest.approx([0.1, 0.9])
    assert values(out["extra_logs"]["reward_fake_boxed"]) == [0.0, 1.0]


def test_text_only_prompt_without_marker_falls_back_to_prefix(orl):
    prompt = "Question: 2+1?\nAnswer:"
    assert isolate_response(prompt + " <think>x</think>\\boxed{3}</s>", prompt, "") == "<think>x</think>\\boxed{3}"
    # the marker wins over a prefix that no longer matches (expanded pads)
    assert isolate_response(chat_prompt("q", 9) + "ok<|im_end|>", chat_prompt("q", 1), QWEN_ASSISTANT_MARKER) == "ok"


@pytest.mark.parametrize("bad_label", ["not json {", None, json.dumps([1, 2]), json.dumps({"meta": 3}), 17])
def test_malformed_labels_score_zero_and_never_raise(reward_func, orl, bad_label, capsys):
    query = chat_prompt("q", 4) + "<think>a</think>\\boxed{3}<|im_end|>"
    out = reward_func([query, query], [chat_prompt("q", 1)] * 2, [bad_label, label(orl)])
    assert values(out["rewards"]) == pytest.approx([0.0, 1.0])
    assert values(out["extra_logs"]["reward_malformed"]) == [1.0, 0.0]
    assert "malformed label" in capsys.readouterr().err


def test_malformed_queries_and_short_lists_never_raise(reward_func, orl):
    out = reward_func([None, 42, chat_prompt("q", 2) + "\\boxed{3}"], [], [label(orl)])
    assert values(out["rewards"]) == pytest.approx([0.0, 0.0, 0.0])  # third has no label
    assert values(out["extra_logs"]["reward_malformed"]) == [1.0, 1.0, 1.0]
    out = reward_func(None, None, None)
    assert values(out["rewards"]) == []
    assert values(reward_func([], [], [])["rewards"]) == []


def test_a_reward_that_raises_scores_zero_for_it_only(reward_func, orl):
    query = chat_prompt("q", 2) + "<think>RAISE</think>\\boxed{3}<|im_end|>"
    out = reward_func([query], [chat_prompt("q", 1)], [label(orl)])
    # seethink_core.run.rewards turns the raising component into None (→ 0 in the logs); the rest still counts
    assert values(out["rewards"]) == pytest.approx([0.9])
    assert values(out["extra_logs"]["reward_fake_think"]) == [0.0]
    assert values(out["extra_logs"]["reward_failure_rate/fake_think"]) == [1.0]  # OpenRLHF's mean: the rate
    assert values(out["extra_logs"]["reward_failure_rate/fake_boxed"]) == [0.0]


def test_the_first_failure_is_said_once_and_too_many_end_the_job(fake_rewards, orl, tmp_path, capsys, monkeypatch):
    """OpenRLHF swallows an exception from reward_func, so past max_reward_failures the bridge writes its
    message beside the reward file and ends its process; the backend raises that message (below)."""
    from seethink_openrlhf import reward_bridge

    ended: list[bool] = []
    monkeypatch.setattr(reward_bridge, "_end_job", lambda: ended.append(True))
    phase = orl.make_phase("grpo", group=2, batch_size=2, rollout_batch_size=2, max_reward_failures=0.5)
    path = write_reward_file(phase, tmp_path / "r.py", marker=QWEN_ASSISTANT_MARKER, timeout=None)
    func = load_reward_func(path)
    good = chat_prompt("q", 2) + "<think>a</think>\\boxed{3}<|im_end|>"
    bad = chat_prompt("q", 2) + "<think>RAISE</think>\\boxed{3}<|im_end|>"
    for query in (bad, good, good):  # one rollout per call, as OpenRLHF calls it; 1 of 3 is under the limit
        func([query], [chat_prompt("q", 1)], [label(orl)])
    err = capsys.readouterr().err
    assert err.count("failed on sample") == 1 and not ended
    assert ("[seethink reward bridge, phase perception] phase perception: reward 'fake_think' failed on sample "
            "'s3': RuntimeError: a reward that raises (at ") in err
    with pytest.raises(reward_bridge.RewardFailuresExceeded):
        for _ in range(2):  # 2 of 4: at the limit; 3 of 5: past it
            func([bad], [chat_prompt("q", 1)], [label(orl)])
    assert ended == [True]
    message = ("phase 'perception': reward 'fake_think' failed on 3 of the 5 samples graded so far (60%), more than "
               "max_reward_failures (0.5) allows; the first: RuntimeError: a reward that raises (at ")
    assert message in capsys.readouterr().err
    said = json.loads((tmp_path / reward_bridge.STOP_FILE).read_text())
    assert said["message"].startswith(message)
    assert said["hint"].endswith("re-running the same command resumes from the job's last in-phase checkpoint")
    from seethink_openrlhf.backend import stopped_by_reward

    with pytest.raises(reward_bridge.RewardFailuresExceeded, match="reward 'fake_think' failed on 3 of the 5"):
        stopped_by_reward(tmp_path / reward_bridge.STOP_FILE)
    write_reward_file(phase, path, marker=QWEN_ASSISTANT_MARKER, timeout=None)  # the next job starts clean
    assert not (tmp_path / reward_bridge.STOP_FILE).exists()


def test_the_failure_rate_reaches_the_metrics_under_its_own_name():
    from seethink_openrlhf.launcher import seethink_metrics

    assert seethink_metrics({"train/reward_failure_rate/fake_think": 0.25, "train/reward_fake_think": 0.5}) == \
        {"reward_failure_rate.fake_think": 0.25, "reward.fake_think": 0.5}


def test_unknown_reward_never_raises_into_openrlhf(fake_rewards, orl, tmp_path, capsys):
    phase = orl.replace(orl.make_phase("grpo"), rewards=[orl.make_phase().rewards[0].__class__("no_such_reward")])
    func = load_reward_func(write_reward_file(phase, tmp_path / "r.py", marker=QWEN_ASSISTANT_MARKER, timeout=None))
    out = func([chat_prompt("q", 1) + "x"], [chat_prompt("q", 1)], [label(orl)])
    assert values(out["rewards"]) == [0.0]
    assert "scoring failed" in capsys.readouterr().err


def test_tensors_when_torch_is_loaded_as_in_openrlhf(reward_func, orl):
    torch = pytest.importorskip("torch")
    query = chat_prompt("q", 4) + "<think>a</think>\\boxed{3}<|im_end|>"
    out = reward_func([query], [chat_prompt("q", 1)], [label(orl)])
    assert isinstance(out["rewards"], torch.Tensor) and out["rewards"].shape == (1,)
    # what samples_generator._process_response_into_experience does with it
    assert torch.tensor([out["rewards"]]).shape == (1,)
    assert all(isinstance(v, torch.Tensor) for v in out["extra_logs"].values())
