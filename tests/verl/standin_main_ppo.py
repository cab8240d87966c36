"""A stand-in for ``verl.trainer.main_ppo`` (named as such: no training), run by the backend tests.

It reads the job's Hydra overrides as verl would receive them, scores every exported row with the
generated reward file (loaded from ``reward.custom_reward_function.path``, called as verl's naive reward
manager calls it), and writes what verl 0.9.1 writes: a file-logger row per step at
``$VERL_FILE_LOGGER_PATH`` and checkpoints ``global_step_N/actor/huggingface`` plus
``latest_checkpointed_iteration.txt`` under ``trainer.default_local_dir``. ``STANDIN_FAIL=1`` fails it.
"""

import ast
import importlib.util
import json
import os
import sys
from pathlib import Path


def _value(text):
    if text.startswith("'"):
        return text[1:-1].replace("\\'", "'").replace("\\\\", "\\")
    if text.startswith("["):
        return [_value(v) for v in text[1:-1].split(",")] if text != "[]" else []
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def main():
    args = dict(a.lstrip("+").split("=", 1) for a in sys.argv[1:])
    cfg = {k: _value(v) for k, v in args.items()}
    if os.environ.get("STANDIN_FAIL"):
        print("stand-in main_ppo: failing as asked", flush=True)
        sys.exit(3)
    spec = importlib.util.spec_from_file_location("reward_fn", cfg["reward.custom_reward_function.path"])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    score = getattr(module, cfg["reward.custom_reward_function.name"])
    import pyarrow.parquet as pq

    rows = pq.read_table(cfg["data.train_files"][0]).to_pylist()
    per_step = cfg["data.train_batch_size"]
    steps = cfg["trainer.total_training_steps"]
    ckpt = Path(cfg["trainer.default_local_dir"])
    start = 0
    if cfg["trainer.resume_mode"] == "resume_path":
        start = int(cfg["trainer.resume_from_path"].rsplit("_", 1)[1])
    (ckpt.parent / "standin_calls.jsonl").open("a").write(json.dumps({"resume_mode": cfg["trainer.resume_mode"],
                                                                       "start": start}) + "\n")
    log = open(os.environ["VERL_FILE_LOGGER_PATH"], "w")
    for step in range(start + 1, steps + 1):
        batch = rows[(step - 1) * per_step: step * per_step]
        # Every other response is right and well formatted; the others are not.
        answers = [r["reward_model"]["ground_truth"] for r in batch]
        responses = [f"<think>x</think> \\boxed{{{a}}}" if i % 2 == 0 else "no answer" for i, a in enumerate(answers)]
        scores = [score(data_source=r["data_source"], solution_str=text, ground_truth=r["reward_model"]["ground_truth"],
                        extra_info=r["extra_info"])["score"] for r, text in zip(batch, responses)]
        log.write(json.dumps({"step": step, "data": {"critic/score/mean": sum(scores) / len(scores),
                                                     "actor/pg_loss": 0.1 * step, "timing_s/step": 1.5,
                                                     "training/global_step": step}}) + "\n")
        log.flush()
        if step % cfg["trainer.save_freq"] == 0 or step == steps:
            hf = ckpt / f"global_step_{step}" / "actor" / "huggingface"
            hf.mkdir(parents=True, exist_ok=True)
            (hf / "config.json").write_text(json.dumps({"step": step}))
            (hf / "model.safetensors").write_bytes(b"stand-in weights")
            (ckpt / "latest_checkpointed_iteration.txt").write_text(str(step))
        print(f"stand-in main_ppo: step {step}", flush=True)


if __name__ == "__main__":
    main()
