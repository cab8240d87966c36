"""OpenRLHF 0.11.2's own data path, run on a CPU over what seethink exports for a small VLM phase.

From the pinned wheel (``openrlhf_src.py``): ``get_strategy``/``get_tokenizer`` (the tiny VLM's
``AutoProcessor`` and chat template), ``blending_datasets``, ``PromptDataset``, ``prepare_datasets``
(with the ordered launcher's patch), ``_collect_prompt_batch``, ``process_prompt_with_images``,
``RolloutRayActor.generate_responses`` and ``SingleTurnAgentExecutor.execute`` (which loads
``reward_func.py`` itself and calls it as in a job), and
``SamplesGenerator._process_response_into_experience``. Only vLLM's generation is scripted: the
engine answers with fixed token ids, everything around it is OpenRLHF's code.
"""

from __future__ import annotations

import asyncio
import json
import sys
from copy import deepcopy
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from PIL import Image
from seethink_openrlhf import ordered_train
from seethink_openrlhf.commands import JobSettings, PhaseFiles, build_command
from seethink_openrlhf.export import export_phase
from seethink_openrlhf.options import QWEN_ASSISTANT_MARKER, OpenRLHFOptions
from seethink_openrlhf.reward_bridge import write_reward_file

from seethink_core.samples.labels import decode_label
from seethink_core.samples.prompting import render_prompt
from seethink_core.types.sample import Sample

sys.path.insert(0, str(Path(__file__).parent))
import openrlhf_src  # noqa: E402  (tests/openrlhf helper, imported by path)

IMAGE = "<|vision_start|><|image_pad|><|vision_end|>"


def phase_samples(orl) -> list[Sample]:
    samples = orl.image_samples(4)
    two = Sample(id="two", prompt="Are the two pictures the same?", answer="no", capability="perception",
                 images=[Image.new("RGB", (56, 28), (0, 90, 0)), Image.new("RGB", (28, 56), (90, 0, 0))],
                 difficulty=0.5, source="synthetic", meta={"choices": ["yes", "no"]})
    text = Sample(id="text", prompt="What is 2 + 3?", answer="5", capability="textual_reasoning", difficulty=0.1,
                  source="arith")
    return [*samples, two, text]


@pytest.fixture
def job(orl, tmp_path, contract, tiny_vlm, fake_rewards) -> SimpleNamespace:
    """A phase exported by seethink, its reward file, and what OpenRLHF's parser makes of its command."""
    samples = phase_samples(orl)
    phase = orl.make_phase("grpo", group=2, batch_size=3, rollout_batch_size=3)
    work = tmp_path / "openrlhf"
    summary = export_phase(phase, orl.ListStream(samples), n_prompts=len(samples), out_dir=work)
    # timeout None: the rewards score in this process, where the test's fake reward plugin is registered
    reward = write_reward_file(phase, work / "reward_func.py", marker=QWEN_ASSISTANT_MARKER, timeout=None)
    files = PhaseFiles(summary.path, reward, tmp_path / "out", tmp_path / "ckpt", tmp_path / "tb")
    settings = JobSettings(init_path=str(tiny_vlm), n_prompts=summary.prompts, total_steps=2,
                           max_images=summary.max_images, run_name="datapath")
    options = OpenRLHFOptions(gpus_per_node=1, vllm_engines=1, colocate="none", micro_rollout_batch=2)
    argv = build_command(phase, options, files, settings)
    rows = [json.loads(line) for line in summary.path.read_text().splitlines()]
    return SimpleNamespace(phase=phase, samples=samples, rows=rows, args=contract.validate(argv[3:]), summary=summary)


@pytest.fixture
def processor(openrlhf_code, job, tiny_vlm) -> Any:
    import seethink_local.processing  # noqa: F401  (AutoProcessor learns the tiny VLM's processor class)

    strategy = openrlhf_code.utils.get_strategy(job.args)
    return openrlhf_code.utils.get_tokenizer(str(tiny_vlm), None, "left", strategy)


def prompt_dataset(openrlhf_code, job, processor) -> Any:
    """``blending_datasets`` and ``PromptDataset`` exactly as ``prepare_datasets`` calls them."""
    from openrlhf.datasets import PromptDataset
    from openrlhf.datasets.utils import blending_datasets

    args = job.args
    strategy = openrlhf_code.utils.get_strategy(args)
    data = blending_datasets(args.data.prompt_dataset, args.data.prompt_probs, strategy, args.train.seed,
                             max_count=args.data.max_samples, dataset_split=args.data.prompt_split)
    data = data.select(range(min(args.data.max_samples, len(data))))
    return PromptDataset(data, processor, strategy, input_template=args.data.input_template)


def test_prompts_images_and_labels_arrive_as_seethink_meant(openrlhf_code, job, processor):
    assert hasattr(processor, "image_processor")  # get_tokenizer took the VLM path (config has vision_config)
    assert job.args.data.max_images_per_prompt == 2 and job.summary.max_images == 2
    dataset = prompt_dataset(openrlhf_code, job, processor)
    assert len(dataset) == len(job.samples) == 6
    for i, (sample, row) in enumerate(zip(job.samples, job.rows)):
        datasource, prompt, label, images = dataset[i]
        n = len(sample.images)
        # the tiny VLM's chat template, applied by OpenRLHF to seethink's message list
        assert prompt == f"<|im_start|>user\n{IMAGE * n}{render_prompt(job.phase.prompt, sample)}<|im_end|>\n" \
                         f"{QWEN_ASSISTANT_MARKER}"
        assert prompt == processor.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True)
        assert images == row["images"] and len(images) == n
        for path, original in zip(images, sample.images):
            with Image.open(path) as opened:  # the exported file is the sample's image
                assert opened.size == original.size
        back = decode_label(label)
        assert (back.id, back.answer, back.capability, back.difficulty, back.source, back.meta) == (
            sample.id, sample.answer, sample.capability, sample.difficulty, sample.source, sample.meta)
        assert back.images == images and back.prompt == sample.prompt
        assert datasource == sample.source


def test_the_processor_expands_every_image_as_the_model_will_see_it(openrlhf_code, job, processor):
    from openrlhf.utils.vlm_utils import process_prompt_with_images

    dataset = prompt_dataset(openrlhf_code, job, processor)
    pad = processor.tokenizer.convert_tokens_to_ids("<|image_pad|>")
    merge = processor.image_processor.merge_size ** 2
    for i, sample in enumerate(job.samples):
        _, prompt, _, images = dataset[i]
        ids, mm, pil = process_prompt_with_images(processor, prompt, images)
        if not sample.images:
            assert mm is None and pil == [] and pad not in ids
            continue
        grids = mm["image_grid_thw"]
        assert len(pil) == len(grids) == len(sample.images) and "pixel_values" in mm
        assert ids.count(pad) == int(sum(int(g.prod()) // merge for g in grids)) > len(sample.images)


class ScriptedEngine:
    """vLLM's part of ``RolloutRayActor``: answers each prompt with fixed token ids. ``generate_responses``
    (the wheel's own method) and the executor around it are OpenRLHF's."""

    def __init__(self, executor: Any, answer_for: Any):
        self.executor = executor
        self.answer_for = answer_for  # prompt token ids → response token ids
        self.images_seen: list[int] = []

    async def generate(self, prompt_token_ids, sampling_params, multi_modal_data=None):
        self.images_seen.append(len((multi_modal_data or {}).get("image", [])))
        out = SimpleNamespace(token_ids=self.answer_for(prompt_token_ids), finish_reason="stop", logprobs=None)
        return SimpleNamespace(outputs=[out])


def bind_openrlhf_methods(openrlhf_wheel) -> None:
    source = openrlhf_src.wheel_sources(openrlhf_wheel)["trainer/ray/vllm_engine.py"]
    namespace: dict[str, Any] = {"asyncio": asyncio}
    exec(compile(openrlhf_src.lift_method(source, "RolloutRayActor", "generate_responses"), "vllm_engine", "exec"),
         namespace)
    ScriptedEngine.generate_responses = namespace["generate_responses"]  # type: ignore[attr-defined]


def test_a_rollout_is_scored_by_the_reward_file_as_openrlhf_calls_it(openrlhf_code, job, processor, openrlhf_wheel):
    from openrlhf.trainer.ppo_utils.samples_generator import SamplesGenerator, _collect_prompt_batch
    from openrlhf.utils.agent import SingleTurnAgentExecutor

    bind_openrlhf_methods(openrlhf_wheel)
    args = job.args
    tok = processor.tokenizer
    end = [tok.convert_tokens_to_ids("<|im_end|>")]
    # per sample: (response, expected fake_boxed, expected fake_think); weights 0.9 and 0.1
    script = {s.id: r for s, r in zip(job.samples, [
        (f"<think>I count</think> \\boxed{{{job.samples[0].answer}}}", 1.0, 1.0),
        ("<think>I count</think> \\boxed{7}", 0.0, 1.0),
        (f"\\boxed{{{job.samples[2].answer}}}", 1.0, 0.0),
        ("no answer at all", 0.0, 0.0),
        ("<think>they differ</think> \\boxed{no}", 1.0, 1.0),
        ("<think>2 + 3</think> \\boxed{5}", 1.0, 1.0),
    ])}
    current: dict[str, str] = {}
    engine = ScriptedEngine(SingleTurnAgentExecutor(args.reward.remote_url),
                            lambda ids: tok.encode(script[current["id"]][0], add_special_tokens=False) + end)
    assert engine.executor.reward_func is not None  # the executor loaded reward_func.py from --reward.remote_url
    sampling = SimpleNamespace(max_tokens=args.rollout.max_new_tokens, logprobs=None)  # vllm.SamplingParams' fields
    generate_kwargs = {"max_len": args.data.max_len}  # train() hands PPOTrainer max_len=args.data.max_len

    ordered_train.patch_trainer(openrlhf_code.ppo_trainer)
    try:
        strategy = openrlhf_code.utils.get_strategy(args)
        loader, _, _ = openrlhf_code.ppo_trainer.prepare_datasets(strategy, processor)
    finally:
        ordered_train.unpatch_trainer(openrlhf_code.ppo_trainer)
    it = iter(loader)
    scored = []
    while True:
        prompts, labels, images, exhausted = _collect_prompt_batch(it, args.rollout.batch_size)
        for prompt, label, img in zip(prompts, labels, images):
            current["id"] = json.loads(label)["id"]
            # as SamplesGenerator._dispatch_prompts_to_vllm calls the engine
            outputs = asyncio.run(engine.generate_responses(
                prompt=prompt, label=label, sampling_params=deepcopy(sampling), max_length=args.data.max_len,
                hf_tokenizer=processor, num_samples=args.rollout.n_samples_per_prompt, images=img))
            assert len(outputs) == args.rollout.n_samples_per_prompt == 2
            scored.append((current["id"], prompt, outputs))
        if exhausted:
            break
    assert [sid for sid, _, _ in scored] == [s.id for s in job.samples]  # the exported order, rollout by rollout
    assert engine.images_seen == [len(s.images) for s in job.samples for _ in range(2)]
    for sid, prompt, outputs in scored:
        _, boxed, think = script[sid]
        for out in outputs:
            # what reward_func received: the decoded prompt + response with special tokens, pads expanded
            query = processor.decode(out["observation_tokens"], skip_special_tokens=False)
            n_images = prompt.count(IMAGE)
            assert query.startswith("<|im_start|>user\n") and query.endswith("<|im_end|>")
            assert query.count("<|image_pad|>") > n_images or n_images == 0
            assert float(out["reward"][0]) == pytest.approx(0.9 * boxed + 0.1 * think)
            assert float(out["scores"][0]) == pytest.approx(0.9 * boxed + 0.1 * think)
            logs = {k: float(v[0]) for k, v in out["extra_logs"].items()}
            # No reward failed: each one's failure rate is logged, and is 0 (docs/openrlhf.md).
            assert logs == pytest.approx({"reward_fake_boxed": boxed, "reward_fake_think": think,
                                          "reward_malformed": 0.0, "reward_failure_rate/fake_boxed": 0.0,
                                          "reward_failure_rate/fake_think": 0.0})
            experience = SamplesGenerator._process_response_into_experience(None, out, **generate_kwargs)
            assert experience.rewards.tolist() == pytest.approx([0.9 * boxed + 0.1 * think])
            assert experience.scores[0].item() == pytest.approx(0.9 * boxed + 0.1 * think)  # dynamic filtering
            assert experience.info["reward_fake_boxed"].tolist() == [boxed]
            response = tok.encode(script[sid][0], add_special_tokens=False) + end
            assert int(experience.action_mask.sum()) == len(response)
            assert experience.labels == [out["label"]] and experience.images == [out["images"]]


def test_a_malformed_label_scores_zero_and_is_reported(openrlhf_code, job, processor, openrlhf_wheel, capsys):
    from openrlhf.utils.agent import SingleTurnAgentExecutor

    bind_openrlhf_methods(openrlhf_wheel)
    tok = processor.tokenizer
    engine = ScriptedEngine(SingleTurnAgentExecutor(job.args.reward.remote_url),
                            lambda ids: tok.encode("<think>x</think> \\boxed{1}", add_special_tokens=False))
    dataset = prompt_dataset(openrlhf_code, job, processor)
    _, prompt, _, images = dataset[0]
    (out,) = asyncio.run(engine.generate_responses(
        prompt=prompt, label="{not json", sampling_params=SimpleNamespace(max_tokens=16, logprobs=None),
        max_length=job.args.data.max_len, hf_tokenizer=processor, num_samples=1, images=images))
    assert float(out["reward"][0]) == 0.0 and float(out["extra_logs"]["reward_malformed"][0]) == 1.0
    assert "malformed label" in capsys.readouterr().err
