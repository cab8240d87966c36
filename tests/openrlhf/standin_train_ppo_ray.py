"""A stand-in for ``python -m openrlhf.cli.train_ppo_ray`` (the tests install it as that module).

It does what the launcher relies on, the way OpenRLHF 0.11.2 does it, without GPUs:
- reads the exported prompts and scores one rollout per prompt through the generated reward file,
  loaded with ``spec_from_file_location`` and called as ``reward_func([query], [prompt], [label])``
  with a Qwen-style query whose image pads are expanded (``SingleTurnAgentExecutor``);
- writes ``train/<key>`` scalars per global step (``simple_value``, what torch's ``SummaryWriter.add_scalar``
  writes, through the same tensorboard ``EventFileWriter``) under
  ``<logger.tensorboard_dir>/<logger.wandb.run_name>`` (``TensorboardLogger.log_train``), including
  the reward's ``extra_logs`` and ``rollout/*`` statistics, plus a text entry as OpenRLHF does;
- saves a DeepSpeed-like checkpoint folder ``<ckpt.path>/_actor`` and the HF model to ``ckpt.output_dir``.
``STANDIN_FAIL=1`` makes it print a traceback and exit 3 after the first step.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from pathlib import Path

MARKER = "<|im_start|>assistant\n"


class Writer:
    """torch's SummaryWriter without torch: the same tensorboard EventFileWriter and protos."""

    def __init__(self, log_dir: str):
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        self.events = EventFileWriter(log_dir)

    def _add(self, value, step: int) -> None:
        import time

        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import Summary

        self.events.add_event(Event(summary=Summary(value=[value]), step=step, wall_time=time.time()))

    def add_scalar(self, tag: str, value: float, step: int) -> None:
        from tensorboard.compat.proto.summary_pb2 import Summary

        self._add(Summary.Value(tag=tag, simple_value=value), step)

    def add_text(self, tag: str, text: str, step: int) -> None:
        from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
        from tensorboard.compat.proto.tensor_pb2 import TensorProto

        meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="text"))
        tensor = TensorProto(dtype=7, string_val=[text.encode()])  # 7 = DT_STRING
        self._add(Summary.Value(tag=tag + "/text_summary", metadata=meta, tensor=tensor), step)

    def flush(self) -> None:
        self.events.flush()

    def close(self) -> None:
        self.events.close()


def main() -> int:
    p = argparse.ArgumentParser()
    for flag in ("--logger.tensorboard_dir", "--logger.wandb.run_name", "--ckpt.output_dir", "--ckpt.path",
                 "--reward.remote_url", "--data.prompt_dataset"):
        p.add_argument(flag)
    p.add_argument("--ckpt.load_enable", action="store_true")
    args, _ = p.parse_known_args()
    a = vars(args)
    print(f"stand-in: {len(sys.argv) - 1} arguments, resume={a['ckpt.load_enable']}", flush=True)

    spec = importlib.util.spec_from_file_location("reward_func", a["reward.remote_url"])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows = [json.loads(line) for line in Path(a["data.prompt_dataset"]).read_text().splitlines()]

    writer = Writer(os.path.join(a["logger.tensorboard_dir"], a["logger.wandb.run_name"]))
    for step, row in enumerate(rows[:3], start=1):
        text = row["prompt"][0]["content"][-1]["text"]
        one_pad = "<|vision_start|><|image_pad|><|vision_end|>" if row["images"] else ""
        pads = one_pad.replace("<|image_pad|>", "<|image_pad|>" * 16)  # what the processor expands
        prompt = f"<|im_start|>user\n{one_pad}{text}<|im_end|>\n{MARKER}"
        answer = json.loads(row["label"])["answer"]
        query = f"<|im_start|>user\n{pads}{text}<|im_end|>\n{MARKER}<think>ok</think> \\boxed{{{answer}}}<|im_end|>"
        out = module.reward_func([query], [prompt], [row["label"]])
        reward = float(out["rewards"][0])
        logs = {"policy_loss": 0.5 / step, "kl": 0.001 * step, "actor_lr": 1e-6, "reward": reward,
                "rollout/reward_mean": reward, "rollout/response_length_mean": 100.0 + step,
                "timing/generation": 1.5}
        logs.update({k: float(v[0]) for k, v in out["extra_logs"].items()})
        for k, v in logs.items():
            writer.add_scalar(f"train/{k}", v, step)
        writer.add_text("train/generated_samples", "| prompt | output |", step)
        writer.flush()
        print(f"✨ Global step {step}: reward={reward}", flush=True)
        Path(a["ckpt.path"], "_actor").mkdir(parents=True, exist_ok=True)
        if os.environ.get("STANDIN_FAIL"):
            print("Traceback (most recent call last):\nValueError: VLM prompt length exceeds max_prompt_length",
                  flush=True)
            return 3
    writer.close()
    out_dir = Path(a["ckpt.output_dir"])
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "config.json").write_text(json.dumps({"model_type": "qwen2_5_vl"}))
    (out_dir / "argv.json").write_text(json.dumps(sys.argv[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
