"""scripts/gpu_check.py: its scaled-down CPU run goes through the same path as the GPU check (the
demo, a random Qwen2.5-VL-shaped model with LoRA and gradient checkpointing, GRPO steps), and
without a GPU the real check stops with one clear message."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "gpu_check.py"


def load_script():
    name = "seethink_gpu_check_script"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, SCRIPT)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def test_cpu_smoke_runs_the_demo_and_grpo_with_lora(tmp_path: Path, capsys) -> None:
    gpu_check = load_script()
    out_json = tmp_path / "figures.json"
    rc = gpu_check.main(["--cpu-smoke", "--steps", "1", "--group", "2", "--batch", "1", "--response-tokens", "4",
                         "--workdir", str(tmp_path / "work"), "--json", str(out_json)])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "[1/3] gpu_check_demo.curr" in out and "[2/3] random scaled-down" in out and "gpu check: ok" in out
    assert "[3/3] decoding 2 rows x 4 tokens: eager (cuda graphs: no CUDA device" in out
    figures = json.loads(out_json.read_text())
    assert figures["cpu_smoke"] and figures["demo"]["phases"] == 2 and figures["demo"]["steps"] == 2
    grpo = figures["grpo"]
    assert len(grpo["steps"]) == 1 and grpo["steps"][0]["step_s"] > 0 and grpo["steps"][0]["tokens_per_s"] > 0
    assert grpo["lora_rank"] == 16 and grpo["peak_memory"] is None  # no GPU here
    assert (tmp_path / "work" / "random-qwen2.5-vl" / "config.json").exists()
    decode = figures["decode"]
    assert decode["rows"] == 2 and decode["eager"]["tokens_per_s"] > 0 and "cuda graphs" not in decode


def test_the_3b_shape_is_qwen25_vl_3b(tmp_path: Path) -> None:
    gpu_check = load_script()
    from seethink_local.tiny_model import build_tokenizer

    cfg = gpu_check.qwen_config(gpu_check.QWEN25_VL_3B, build_tokenizer())
    text, vision = cfg.text_config, cfg.vision_config
    assert (text.hidden_size, text.num_hidden_layers, text.num_attention_heads, text.num_key_value_heads,
            text.intermediate_size, text.vocab_size) == (2048, 36, 16, 2, 11008, 151936)
    assert text.rope_parameters["mrope_section"] == [16, 24, 24]
    assert (vision.depth, vision.hidden_size, vision.out_hidden_size) == (32, 1280, 2048)


def test_without_cuda_the_check_is_one_clear_error(capsys) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    assert load_script().main(["--skip-grpo"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no CUDA device is available" in err and "--cpu-smoke" in err
