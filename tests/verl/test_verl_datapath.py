"""seethink's parquet through verl 0.9.1's own ``RLHFDataset`` and ``create_rl_sampler`` (from the wheel), and
the generated reward file through verl's own loader, called as its reward managers call it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from seethink_verl.export import export_phase
from seethink_verl.reward_bridge import write_reward_file

from seethink_core.samples.labels import decode_label
from seethink_core.types.sample import Sample


@pytest.fixture(scope="module")
def tiny_vlm(tmp_path_factory) -> Path:
    from seethink_local.tiny_model import build_tiny_vlm

    return build_tiny_vlm(None, tmp_path_factory.mktemp("tiny") / "tiny-vlm")


@pytest.fixture(scope="module")
def processor(tiny_vlm):
    import seethink_local.processing  # noqa: F401  (AutoProcessor learns the tiny VLM's processor class)
    from transformers import AutoProcessor

    return AutoProcessor.from_pretrained(str(tiny_vlm))


def _samples(vt) -> list[Sample]:
    images = vt.image_samples(4)
    text = [Sample(id="t0", prompt="What is 2+3?", answer="5", capability="textual_reasoning", source="text")]
    two = [Sample(id="two", prompt="Which is larger?", images=images[0].images + images[1].images, answer="1",
                  capability="visual_reasoning", source="synthetic")]
    return images[:2] + text + two


def _dataset(verl_config, path: Path, processor, **data):
    from omegaconf import OmegaConf
    from verl.utils.dataset.rl_dataset import RLHFDataset

    # filter_overlong_prompts measures through qwen_vl_utils, which is not installed here (docs/verl.md).
    config = OmegaConf.merge(verl_config.data, {"filter_overlong_prompts": False, **data})
    return RLHFDataset(data_files=[str(path)], tokenizer=processor.tokenizer, config=config, processor=processor)


def _parts(message: dict) -> tuple[list[dict], list[str]]:
    """A message's image items and texts (``_build_messages`` makes a row with images a content list)."""
    content = message["content"]
    if isinstance(content, str):
        return [], [content]
    return [p for p in content if p["type"] == "image"], [p["text"] for p in content if p["type"] == "text"]


@pytest.fixture(scope="module")
def job(contract, vt, tmp_path_factory):
    work = tmp_path_factory.mktemp("verl-job")
    phase = vt.replace(vt.make_phase(batch_size=2, rollout_batch_size=4), system="Answer briefly.")
    summary = export_phase(phase, vt.ListStream(_samples(vt)), n_prompts=4, out_dir=work)
    config = contract.check(vt.make_overrides(phase))
    return phase, summary, config, work


def test_verls_dataset_reads_the_rows_in_order_with_images_and_labels(job, processor):
    phase, summary, config, _ = job
    dataset = _dataset(config, summary.path, processor)
    assert len(dataset) == summary.prompts == 4
    from verl.trainer.ppo.utils import create_rl_sampler

    sampler = create_rl_sampler(config.data, dataset)  # data.shuffle=False: verl's sequential sampler
    order = [decode_label(dataset[i]["extra_info"]["seethink"]).id for i in sampler]
    assert order == ["s0", "s1", "t0", "two"]
    for i in range(4):
        row = dataset[i]
        sample = decode_label(row["extra_info"]["seethink"])
        system, user = row["raw_prompt"]
        assert system["role"] == "system" and _parts(system)[1] == ["Answer briefly."]
        images, texts = _parts(user)
        assert len(images) == len(sample.images) and all(Path(p["image"]).is_file() for p in images)
        assert texts == [phase.prompt.replace("{question}", sample.prompt)]
        assert row["reward_model"]["ground_truth"] == sample.answer and row["data_source"] == sample.source
        prompt = processor.apply_chat_template(row["raw_prompt"], tokenize=False, add_generation_prompt=True)
        assert prompt.count("<|vision_start|>") == len(sample.images)


def test_pixel_bounds_travel_with_each_image(contract, vt, tmp_path, processor):
    phase = vt.make_phase(batch_size=2, rollout_batch_size=2, min_pixels=3136, max_pixels=12544)
    summary = export_phase(phase, vt.ListStream(vt.image_samples(2)), n_prompts=2, out_dir=tmp_path)
    dataset = _dataset(contract.check(vt.make_overrides(phase)), summary.path, processor)
    from PIL import Image

    for i in range(2):
        [image] = _parts(dataset[i]["raw_prompt"][0])[0]
        assert (image["min_pixels"], image["max_pixels"]) == (3136, 12544)  # what qwen_vl_utils.fetch_image reads
        with Image.open(image["image"]) as im:  # written already bounded: 28×28 = 784 < 3136 is scaled up
            assert 3136 * 0.9 <= im.width * im.height <= 12544


def test_the_reward_file_scores_as_verl_calls_it(job, processor, fake_rewards):
    from verl.utils.import_utils import load_extern_object

    from seethink_core.run.rewards.combine import build_reward

    phase, summary, config, work = job
    path = write_reward_file(phase, work / "reward_fn.py", timeout=None)
    compute_score = load_extern_object(module_path=str(path), object_name="compute_score")  # get_custom_reward_fn
    dataset = _dataset(config, summary.path, processor)
    reference = build_reward(phase.rewards, fake_rewards.registry, timeout=None)
    for i, response in enumerate(["<think>count</think> \\boxed{0}", "\\boxed{7}", "<think>5</think>\\boxed{5}",
                                  "no box"]):
        row = dataset[i]
        # NaiveRewardManager.run_single's call
        got = compute_score(data_source=row["data_source"], solution_str=response,
                            ground_truth=row["reward_model"]["ground_truth"], extra_info=row["extra_info"])
        sample = decode_label(row["extra_info"]["seethink"])
        want = reference([sample.prompt], [response], [sample])
        assert got["score"] == pytest.approx(want.total[0])
        assert got["reward_fake_boxed"] == pytest.approx(want.components["fake_boxed"][0] or 0.0)
        assert got["reward_malformed"] == 0.0
    assert [round(compute_score("d", r, "", dataset[i]["extra_info"])["score"], 6)
            for i, r in enumerate(["<think>a</think>\\boxed{0}", "\\boxed{1}"])] == [1.0, 0.9]


def test_a_malformed_label_scores_zero_and_says_so(job, fake_rewards, capsys):
    phase, _, _, work = job
    from seethink_verl.reward_bridge import RewardBridge

    bridge = RewardBridge(phase.name, phase.rewards, timeout=None)
    out = bridge("d", "\\boxed{1}", "1", {"seethink": "{not json"})
    assert out["score"] == 0.0 and out["reward_malformed"] == 1.0
    assert "malformed seethink label" in capsys.readouterr().err


def test_failures_past_the_limit_stop_with_a_stop_file(job, fake_rewards, tmp_path):
    from seethink_verl.reward_bridge import RewardBridge

    from seethink_core.run.rewards.errors import RewardFailuresExceeded

    phase, summary, _, _ = job
    stop = tmp_path / "reward_stop.json"
    bridge = RewardBridge(phase.name, phase.rewards, timeout=None, max_reward_failures=0.1, min_samples=2,
                          stop_file=str(stop))
    label = json.dumps({"id": "x", "prompt": "q", "answer": "1"})
    first = bridge("d", "RAISE", "1", {"seethink": label})
    assert first["reward_failed_fake_think"] == 1.0
    with pytest.raises(RewardFailuresExceeded):
        bridge("d", "RAISE again", "1", {"seethink": label})
    assert "fake_think" in json.loads(stop.read_text())["message"]
