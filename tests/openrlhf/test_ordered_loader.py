"""The ordered launcher keeps seethink's exported prompt order in OpenRLHF 0.11.2's own prompt loader.

Run against the pinned wheel's code (``openrlhf_src.py`` builds a partial ``openrlhf`` package from
it): the real ``prepare_datasets``, ``DeepspeedStrategy.setup_dataloader``, ``blending_datasets``,
``PromptDataset``, ``DistributedSampler``, torchdata's ``StatefulDataLoader`` and the real
``train_ppo_ray`` ``__main__``/``train()`` on a real local Ray. Stand-ins replace only the
``torch.distributed`` world (for several simulated data-parallel ranks) and, in the Ray run, the
GPU actors.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from seethink_openrlhf import ordered_train
from seethink_openrlhf.commands import MODULE, JobSettings, PhaseFiles, build_command
from seethink_openrlhf.export import export_phase
from seethink_openrlhf.options import OpenRLHFOptions

from seethink_core.types.plan import DataRef, Difficulty, Pacing
from seethink_core.types.sample import Sample

sys.path.insert(0, str(Path(__file__).parent))
import openrlhf_src  # noqa: E402  (tests/openrlhf helper, imported by path)

# ---- fixtures ----------------------------------------------------------------------------------------------


@pytest.fixture
def patched(openrlhf_code):
    ordered_train.patch_trainer(openrlhf_code.ppo_trainer)
    yield openrlhf_code.ppo_trainer
    ordered_train.unpatch_trainer(openrlhf_code.ppo_trainer)


OPTIONS = dict(gpus_per_node=1, vllm_engines=1, colocate="none")


def text_samples(n: int) -> list[Sample]:
    return [Sample(id=f"q{i:02d}", prompt=f"What is {i} + 1?", answer=str(i + 1), capability="textual_reasoning",
                   difficulty=(i * 7 % n) / n, source="synthetic") for i in range(n)]


def export(orl, tmp_path: Path, samples: list[Sample]) -> tuple[Any, Path, list]:
    """A small phase (rollouts of 8 prompts, group 2) exported by seethink, in the samples' order."""
    phase = orl.make_phase("grpo", group=2, batch_size=4, rollout_batch_size=8)
    summary = export_phase(phase, orl.ListStream(samples), n_prompts=len(samples), out_dir=tmp_path / "export")
    rows = [json.loads(line) for line in summary.path.read_text().splitlines()]
    return phase, summary.path, rows


def row_ids(rows: list[dict]) -> list[str]:
    return [json.loads(r["label"])["id"] for r in rows]


def command(phase, prompts: Path, model: Path, tmp_path: Path, *, python: str = "python", **options: Any) -> list[str]:
    files = PhaseFiles(prompts, tmp_path / "reward_func.py", tmp_path / "out", tmp_path / "ckpt", tmp_path / "tb")
    job = JobSettings(init_path=str(model), n_prompts=0, total_steps=4, max_images=0, run_name="ordered", python=python)
    return build_command(phase, OpenRLHFOptions(**{**OPTIONS, **options}), files, job)


def job_args(contract, phase, prompts: Path, model: Path, tmp_path: Path, *extra: str) -> Any:
    """What OpenRLHF's own parser and __main__ make of seethink's command for the phase."""
    return contract.validate(command(phase, prompts, model, tmp_path)[3:] + list(extra))


def build_loaders(openrlhf_code, args, model: Path) -> tuple[Any, Any, int, Any]:
    """OpenRLHF's own strategy, tokenizer and prepare_datasets, as PPOTrainer.__init__ calls them."""
    import seethink_local.processing  # noqa: F401  (AutoProcessor learns the tiny VLM's processor class)

    strategy = openrlhf_code.utils.get_strategy(args)
    tokenizer = openrlhf_code.utils.get_tokenizer(str(model), None, "left", strategy)
    train, evaluation, max_steps = openrlhf_code.ppo_trainer.prepare_datasets(strategy, tokenizer)
    return train, evaluation, max_steps, strategy


def loader_ids(loader) -> list[str]:
    return [json.loads(label)["id"] for _, _, labels, _ in loader for label in labels]


# ---- one process -------------------------------------------------------------------------------------------


def test_openrlhf_alone_shuffles_the_exported_order(orl, openrlhf_code, contract, tiny_vlm, tmp_path):
    phase, prompts, rows = export(orl, tmp_path, text_samples(24))
    args = job_args(contract, phase, prompts, tiny_vlm, tmp_path)
    train, _, _, _ = build_loaders(openrlhf_code, args, tiny_vlm)
    got = loader_ids(train)
    assert sorted(got) == sorted(row_ids(rows)) and got != row_ids(rows)
    assert type(train.sampler).__name__ == "RandomSampler"  # torchdata's, from shuffle=True


def test_the_patch_serves_the_exported_order_and_leaves_the_rest(orl, openrlhf_code, patched, contract, tiny_vlm,
                                                                tmp_path, capsys):
    phase, prompts, rows = export(orl, tmp_path, text_samples(24))
    # with an eval set, to see that its loader is built as OpenRLHF builds it
    args = job_args(contract, phase, prompts, tiny_vlm, tmp_path, "--eval.dataset", str(prompts))
    train, evaluation, max_steps, strategy = build_loaders(openrlhf_code, args, tiny_vlm)
    assert loader_ids(train) == row_ids(rows)
    assert type(train.sampler).__name__ == "SequentialSampler" and train.batch_size == 1 and train.drop_last
    assert type(evaluation.sampler).__name__ == "SequentialSampler"  # OpenRLHF's own shuffle=False
    assert "[seethink] OpenRLHF's prompt loader keeps the exported order: 24 of 24" in capsys.readouterr().out
    # prepare_datasets' own arithmetic is untouched: prompts × n // train batch × episodes × epochs
    assert max_steps == 24 * 2 // 8
    # the strategy is left as it was: a later setup_dataloader call that asks for shuffling gets it
    assert "setup_dataloader" not in vars(strategy)
    again = strategy.setup_dataloader(train.dataset, 1, True, True, train.dataset.collate_fn)
    assert type(again.sampler).__name__ == "RandomSampler"


@pytest.mark.parametrize("world", [2, 3])
def test_several_data_parallel_ranks_take_the_exported_order_block_by_block(orl, openrlhf_code, contract, tiny_vlm,
                                                                           tmp_path, monkeypatch, world):
    """Were the loader built on ``world`` ranks, OpenRLHF's DistributedSampler splits the order: with the
    patch the ranks' k-th draws are rows [k·world, (k+1)·world), the tail of 25 % world dropped."""
    phase, prompts, rows = export(orl, tmp_path, text_samples(25))
    args = job_args(contract, phase, prompts, tiny_vlm, tmp_path)
    exported = row_ids(rows)

    def per_rank() -> list[list[str]]:
        out = []
        for rank in range(world):
            monkeypatch.setattr(openrlhf_code.deepspeed, "dist", SimulatedWorld(world, rank))
            strategy = openrlhf_code.utils.get_strategy(args)
            strategy.ds_device_mesh = {"dp": SimpleNamespace(get_group=lambda: "dp")}
            tokenizer = openrlhf_code.utils.get_tokenizer(str(tiny_vlm), None, "left", strategy)
            train, _, _ = openrlhf_code.ppo_trainer.prepare_datasets(strategy, tokenizer)
            assert type(train.sampler).__name__ == "DistributedSampler"
            out.append(loader_ids(train))
        return out

    def interleave(ranks: list[list[str]]) -> list[str]:
        return [ids[k] for k in range(len(ranks[0])) for ids in ranks]

    shuffled = interleave(per_rank())
    assert len(shuffled) == 25 // world * world and shuffled != exported[:len(shuffled)]
    ordered_train.patch_trainer(openrlhf_code.ppo_trainer)
    try:
        ranks = per_rank()
    finally:
        ordered_train.unpatch_trainer(openrlhf_code.ppo_trainer)
    kept = 25 // world * world
    assert interleave(ranks) == exported[:kept]
    for rank, ids in enumerate(ranks):
        assert ids == exported[rank:kept:world]


class SimulatedWorld:
    """``torch.distributed`` as ``setup_dataloader`` and ``is_rank_0`` query it, seen from one rank."""

    def __init__(self, world: int, rank: int):
        self.world, self.rank = world, rank

    def is_initialized(self) -> bool:
        return True

    def get_world_size(self, group: Any = None) -> int:
        return self.world

    def get_rank(self, group: Any = None) -> int:
        return self.rank


def test_resuming_continues_the_exported_order(orl, openrlhf_code, patched, contract, tiny_vlm, tmp_path):
    """PPOTrainer.fit saves ``prompts_dataloader.state_dict()`` and loads it into a fresh loader on resume."""
    phase, prompts, rows = export(orl, tmp_path, text_samples(20))
    args = job_args(contract, phase, prompts, tiny_vlm, tmp_path)
    first, _, _, _ = build_loaders(openrlhf_code, args, tiny_vlm)
    it = iter(first)
    seen = [json.loads(next(it)[2][0])["id"] for _ in range(7)]
    state = first.state_dict()
    resumed, _, _, _ = build_loaders(openrlhf_code, args, tiny_vlm)
    resumed.load_state_dict(state)
    assert seen + loader_ids(resumed) == row_ids(rows)


def test_a_checkpoint_of_a_shuffled_job_is_refused_with_a_reason(orl, openrlhf_code, contract, tiny_vlm, tmp_path):
    """A phase interrupted under plain train_ppo_ray saved its random sampler's state; torchdata alone
    would fail on it with a bare AssertionError in PPOTrainer.fit."""
    phase, prompts, _ = export(orl, tmp_path, text_samples(12))
    args = job_args(contract, phase, prompts, tiny_vlm, tmp_path)
    shuffled, _, _, _ = build_loaders(openrlhf_code, args, tiny_vlm)
    it = iter(shuffled)
    next(it), next(it)
    state = shuffled.state_dict()
    ordered_train.patch_trainer(openrlhf_code.ppo_trainer)
    try:
        ordered, _, _, _ = build_loaders(openrlhf_code, args, tiny_vlm)
    finally:
        ordered_train.unpatch_trainer(openrlhf_code.ppo_trainer)
    with pytest.raises(ordered_train.OrderPatchError, match="delete the phase's resume/ folder"):
        ordered.load_state_dict(state)


@pytest.mark.parametrize("difficulty", [
    Difficulty(source="column", order="easy_to_hard"),
    Difficulty(source="column", order="hard_to_easy", pacing=Pacing(kind="linear", start=0.3, full_at=0.8)),
], ids=["easy_to_hard", "hard_to_easy_paced"])
def test_a_runner_ordered_stream_trains_in_its_order(orl, openrlhf_code, patched, contract, tiny_vlm, tmp_path,
                                                     with_plugins, difficulty):
    """The runner's own stream (difficulty order, pacing) → seethink's export → OpenRLHF's loader."""
    from seethink_core.run.stream import build_stream

    data = tmp_path / "items.jsonl"
    data.write_text("".join(json.dumps({"id": f"d{i}", "prompt": f"item {i}", "answer": str(i),
                                        "difficulty": (i * 11 % 30) / 29}) + "\n" for i in range(30)))
    phase = orl.replace(orl.make_phase("grpo", group=2, batch_size=4, rollout_batch_size=8),
                        data=[DataRef("jsonl", {"path": str(data)})], difficulty=difficulty)
    stream = build_stream(phase, with_plugins().registry, seed=phase.seed)
    stream.set_total_steps(6)
    summary = export_phase(phase, stream, n_prompts=24, out_dir=tmp_path / "export")
    rows = [json.loads(line) for line in summary.path.read_text().splitlines()]
    args = job_args(contract, phase, summary.path, tiny_vlm, tmp_path)
    train, _, _, _ = build_loaders(openrlhf_code, args, tiny_vlm)
    assert loader_ids(train) == row_ids(rows)
    served = [json.loads(label)["difficulty"] for _, _, labels, _ in train for label in labels]
    if difficulty.pacing is None:
        assert served == sorted(served)  # one epoch, easiest first, as the runner ordered it


# ---- version drift: never a silent shuffle -----------------------------------------------------------------


def test_an_unexpected_prepare_datasets_is_refused():
    module = SimpleNamespace(__name__="openrlhf.trainer.ppo_trainer")
    module.prepare_datasets = lambda args, tokenizer: None
    with pytest.raises(ordered_train.OrderPatchError, match=r"takes \(args, tokenizer\)"):
        ordered_train.patch_trainer(module)

    def prepare_datasets(strategy, tokenizer):
        return strategy.make_loader()

    module.prepare_datasets = prepare_datasets
    with pytest.raises(ordered_train.OrderPatchError, match="no longer builds its loaders with"):
        ordered_train.patch_trainer(module)
    with pytest.raises(ordered_train.OrderPatchError, match="has no prepare_datasets"):
        ordered_train.patch_trainer(SimpleNamespace(__name__="m"))


def _mutated_prepare_datasets(openrlhf_code, openrlhf_wheel, mutate) -> Any:
    """The wheel's prepare_datasets with one call's arguments changed (what a new release might do)."""
    import ast

    source = openrlhf_src.wheel_sources(openrlhf_wheel)["trainer/ppo_trainer.py"]
    tree = ast.parse(openrlhf_src.lift_functions(source, "prepare_datasets"))
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "setup_dataloader"]
    mutate(calls)
    namespace = dict(vars(openrlhf_code.ppo_trainer))
    exec(compile(ast.fix_missing_locations(tree), "mutated", "exec"), namespace)
    return namespace["prepare_datasets"]


def test_a_second_shuffled_loader_is_an_error_not_a_guess(orl, openrlhf_code, contract, tiny_vlm, tmp_path,
                                                          openrlhf_wheel):
    import ast

    def shuffle_eval_too(calls):
        calls[1].args[3] = ast.Constant(True)

    module = SimpleNamespace(__name__="drifted", prepare_datasets=_mutated_prepare_datasets(
        openrlhf_code, openrlhf_wheel, shuffle_eval_too))
    ordered_train.patch_trainer(module)
    phase, prompts, _ = export(orl, tmp_path, text_samples(8))
    args = job_args(contract, phase, prompts, tiny_vlm, tmp_path, "--eval.dataset", str(prompts))
    strategy = openrlhf_code.utils.get_strategy(args)
    tokenizer = openrlhf_code.utils.get_tokenizer(str(tiny_vlm), None, "left", strategy)
    with pytest.raises(ordered_train.OrderPatchError, match=r"asked for 2 shuffled loader\(s\)"):
        module.prepare_datasets(strategy, tokenizer)
    assert "setup_dataloader" not in vars(strategy)


def test_a_release_that_stops_shuffling_is_accepted(orl, openrlhf_code, contract, tiny_vlm, tmp_path, openrlhf_wheel):
    import ast

    def no_shuffle(calls):
        calls[0].args[3] = ast.Constant(False)

    module = SimpleNamespace(__name__="fixed", prepare_datasets=_mutated_prepare_datasets(
        openrlhf_code, openrlhf_wheel, no_shuffle))
    ordered_train.patch_trainer(module)
    phase, prompts, rows = export(orl, tmp_path, text_samples(8))
    args = job_args(contract, phase, prompts, tiny_vlm, tmp_path)
    strategy = openrlhf_code.utils.get_strategy(args)
    tokenizer = openrlhf_code.utils.get_tokenizer(str(tiny_vlm), None, "left", strategy)
    train, _, _ = module.prepare_datasets(strategy, tokenizer)
    assert loader_ids(train) == row_ids(rows)


def test_a_strategy_without_shuffle_or_an_out_of_order_sampler_is_refused(orl, openrlhf_code, patched, contract,
                                                                          tiny_vlm, tmp_path, monkeypatch):
    phase, prompts, _ = export(orl, tmp_path, text_samples(8))
    args = job_args(contract, phase, prompts, tiny_vlm, tmp_path)
    strategy = openrlhf_code.utils.get_strategy(args)
    tokenizer = openrlhf_code.utils.get_tokenizer(str(tiny_vlm), None, "left", strategy)
    Strategy = type(strategy)

    def renamed(self, replay_buffer, batch_size, pin_memory=False, order="random", collate_fn=None, drop_last=True,
                sampler=None, consumed_samples=0, num_workers=0):
        raise AssertionError("never called")

    monkeypatch.setattr(Strategy, "setup_dataloader", renamed)
    with pytest.raises(ordered_train.OrderPatchError, match="has no 'shuffle' parameter"):
        openrlhf_code.ppo_trainer.prepare_datasets(strategy, tokenizer)
    monkeypatch.undo()

    real = Strategy.setup_dataloader

    def reversed_sampler(self, replay_buffer, batch_size, pin_memory=False, shuffle=True, collate_fn=None,
                         drop_last=True, sampler=None, consumed_samples=0, num_workers=0):
        # a release whose loader ignores shuffle=False (here: serves the file backwards)
        return real(self, replay_buffer, batch_size, pin_memory, shuffle, collate_fn, drop_last,
                    list(reversed(range(len(replay_buffer)))), consumed_samples, num_workers)

    monkeypatch.setattr(Strategy, "setup_dataloader", reversed_sampler)
    with pytest.raises(ordered_train.OrderPatchError, match="still does not serve rows in order"):
        openrlhf_code.ppo_trainer.prepare_datasets(strategy, tokenizer)


# ---- installing the patch: import hook, async trainer, Ray -------------------------------------------------


def test_the_patch_lands_when_openrlhf_imports_its_trainer(openrlhf_code):
    names = ("openrlhf.trainer.ppo_trainer", "openrlhf.trainer.ppo_trainer_async")
    saved = {n: sys.modules.pop(n, None) for n in names}
    try:
        ordered_train.install()
        import openrlhf.trainer.ppo_trainer_async as async_trainer  # imports ppo_trainer, both patched on import

        trainer = sys.modules["openrlhf.trainer.ppo_trainer"]
        assert ordered_train.is_ordered(trainer.prepare_datasets)
        assert async_trainer.prepare_datasets is trainer.prepare_datasets
        # modules imported before install() (a worker that imported them early) are patched by it
        ordered_train.uninstall()
        for n in names:
            sys.modules.pop(n)
        import openrlhf.trainer.ppo_trainer_async as early

        assert not ordered_train.is_ordered(early.prepare_datasets)
        ordered_train.install()
        assert ordered_train.is_ordered(early.prepare_datasets)
        assert early.prepare_datasets is sys.modules["openrlhf.trainer.ppo_trainer"].prepare_datasets
    finally:
        ordered_train.uninstall()
        for n, module in saved.items():
            if module is not None:
                sys.modules[n] = module


def test_ray_init_gets_the_setup_hook_and_keeps_everything_else():
    calls: list[tuple[tuple, dict]] = []
    ray = SimpleNamespace(init=lambda *a, **k: calls.append((a, k)))
    restore = ordered_train.hook_ray_init(ray)
    assert ordered_train.hook_ray_init(ray)() is None  # hooking twice is a no-op
    # OpenRLHF's own call (train_ppo_ray.train), its env_vars untouched; Ray's auto-init passes nothing
    ray.init(runtime_env={"env_vars": {"NCCL_DEBUG": "WARN"}})
    ray.init("ray://head:10001")
    assert calls == [((), {"runtime_env": {"env_vars": {"NCCL_DEBUG": "WARN"},
                                           "worker_process_setup_hook": ordered_train.SETUP_HOOK}}),
                     (("ray://head:10001",), {"runtime_env": {"worker_process_setup_hook": ordered_train.SETUP_HOOK}})]
    with pytest.raises(ordered_train.OrderPatchError, match="already names a worker_process_setup_hook"):
        ray.init(runtime_env={"worker_process_setup_hook": "somebody.else"})
    restore()
    ray.init()
    assert calls[-1] == ((), {})
    from ray.runtime_env import RuntimeEnv

    env = ordered_train.with_setup_hook(RuntimeEnv(env_vars={"A": "1"}))
    assert env == {"env_vars": {"A": "1"}, "worker_process_setup_hook": ordered_train.SETUP_HOOK}


def test_a_ray_already_up_must_carry_the_hook():
    def ray_with(up: bool, runtime_env: dict) -> Any:
        context = SimpleNamespace(runtime_env=runtime_env)
        return SimpleNamespace(is_initialized=lambda: up, get_runtime_context=lambda: context)

    ordered_train.require_hook_if_running(ray_with(False, {}))
    ordered_train.require_hook_if_running(ray_with(True, {"worker_process_setup_hook": ordered_train.SETUP_HOOK}))
    ordered_train.require_hook_if_running(ray_with(True, {"env_vars": {
        ordered_train.HOOK_ENV_VAR: ordered_train.SETUP_HOOK}}))
    with pytest.raises(ordered_train.OrderPatchError, match="already initialised .* without seethink's"):
        ordered_train.require_hook_if_running(ray_with(True, {"env_vars": {"A": "1"}}))


def test_the_ordered_command_is_openrlhfs_command_line(orl, contract, tmp_path):
    """The launcher takes train_ppo_ray's flags unchanged, so the contract parses them as they are."""
    phase = orl.make_phase("grpo")
    argv = command(phase, tmp_path / "prompts.jsonl", Path("Qwen/Qwen2.5-VL-7B-Instruct"), tmp_path)
    assert argv[:3] == ["python", "-m", "seethink_openrlhf.ordered_train"] == ["python", "-m", MODULE]
    args = contract.validate(argv[3:])
    assert args.data.prompt_dataset == str(tmp_path / "prompts.jsonl")
    assert ordered_train.ENTRY_MODULE == "openrlhf.cli.train_ppo_ray"


# ---- the whole job on a real Ray -------------------------------------------------------------------------


def run_job(argv: list[str], partial_openrlhf: Path, ray_tmp: Path) -> tuple[int, str, int]:
    """Run a job in its own session (Ray's local head dies with it); returns (status, output, driver pid)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env.update(PYTHONPATH=os.pathsep.join([str(partial_openrlhf), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
               RAY_TMPDIR=str(ray_tmp), RAY_USAGE_STATS_ENABLED="0", HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1",
               TOKENIZERS_PARALLELISM="false", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=420)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the job's own process group: its driver and Ray's processes
        out, _ = proc.communicate()
    return proc.returncode, out, proc.pid


@pytest.mark.slow
def test_the_job_trains_in_the_exported_order_inside_the_ray_actor(orl, partial_openrlhf, tiny_vlm, tmp_path):
    """``python -m seethink_openrlhf.ordered_train`` runs OpenRLHF's real ``train_ppo_ray`` (parser, checks,
    ``train()`` and its ``ray.init``); the PPOTrainer actor, in a Ray worker process, builds its loader
    with the real ``prepare_datasets``."""
    samples = orl.image_samples(16)
    phase, prompts, rows = export(orl, tmp_path, samples)
    exported = row_ids(rows)
    ray_tmp = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))  # short: Ray's socket paths have a length limit
    try:
        start = time.monotonic()
        status, out, driver = run_job(command(phase, prompts, tiny_vlm, tmp_path / "ordered", python=sys.executable),
                                      partial_openrlhf, ray_tmp)
        took = time.monotonic() - start
        assert status == 0, out[-6000:]
        fit = json.loads((tmp_path / "ordered" / "out" / "standin_fit.json").read_text())
        assert [i for batch in fit["rollouts"] for i in batch] == exported
        assert [len(b) for b in fit["rollouts"]] == [8, 8]  # --rollout.batch_size prompts per rollout, in order
        assert fit["ordered"] and fit["setup_hook"] == ordered_train.SETUP_HOOK
        assert fit["pid"] != driver  # the loader was built in the Ray worker, not in the driver
        # OpenRLHF's own ray.init env_vars reached the job beside the hook
        assert {"TOKENIZERS_PARALLELISM", "NCCL_DEBUG", "RAY_ENABLE_ZERO_COPY_TORCH_TENSORS"} <= set(fit["env_vars"])
        assert fit["max_steps"] == 16 * 2 // 8
        assert "[seethink] OpenRLHF's prompt loader keeps the exported order: 16 of 16" in out

        # The control: the same launcher with the patch in the driver only (no setup hook for Ray's workers).
        # The actor resolves prepare_datasets in its own process, so its loader shuffles: the hook is what
        # carries the order into the worker.
        driver_only = ("import sys; from seethink_openrlhf import ordered_train as o; "
                       "o.hook_ray_init = lambda ray: (lambda: None); o.main(sys.argv[1:])")
        control = [sys.executable, "-c", driver_only, *command(phase, prompts, tiny_vlm, tmp_path / "control")[3:]]
        status, out, _ = run_job(control, partial_openrlhf, ray_tmp)
        assert status == 0, out[-6000:]
        fit = json.loads((tmp_path / "control" / "out" / "standin_fit.json").read_text())
        flat = [i for batch in fit["rollouts"] for i in batch]
        assert sorted(flat) == sorted(exported) and flat != exported
        assert not fit["ordered"] and fit["setup_hook"] is None
        print(f"ordered job: {took:.1f}s")
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)
