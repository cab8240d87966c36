"""OpenRLHF 0.11.2's own prompt-data code, from the pinned wheel, runnable on a CPU without its GPU stack.

``build_partial_openrlhf(wheel, dest)`` writes an ``openrlhf`` package under ``dest``:

- **verbatim from the wheel** wherever a file imports here (torch, transformers, datasets, torchdata,
  Ray): ``cli/train_ppo_ray.py`` (parser, post-parse checks and ``train()``), ``datasets/*``,
  ``utils/{__init__,utils,config,math_utils,distributed_sampler,vlm_utils,logging_utils,agent,
  seqlen_balancing}.py``, ``trainer/ppo_utils/{__init__,experience,kl_controller,length_penalty,
  replay_buffer}.py``;
- **the wheel's own functions, lifted from its syntax tree**, where the rest of the file needs
  DeepSpeed or vLLM: ``DeepspeedStrategy`` keeps its real ``__init__``, ``setup_dataloader``,
  ``print`` and ``is_rank_0`` (DeepSpeed is only used elsewhere in the class); ``ppo_trainer.py``
  keeps the real ``prepare_datasets``; ``samples_generator.py`` the real ``_collect_prompt_batch`` and
  ``SamplesGenerator._process_response_into_experience``; ``ppo_trainer_async.py`` the real line
  that imports ``prepare_datasets``;
- **stand-ins, named as such**, only for what needs GPUs: the DeepSpeed actor groups, the vLLM
  engines, and a ``PPOTrainer`` Ray actor that builds its prompt loader as the real ``__init__`` does
  (``get_tokenizer``, then the module's ``prepare_datasets`` looked up when called) and whose ``fit``
  draws rollout batches with the real ``_collect_prompt_batch`` and records them.

Nothing is copied into the repository: every run reads the wheel. Imported by path (``sys.path``
gets ``tests/openrlhf``), like ``tests/streams.py``.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
import zipfile
from pathlib import Path

VERBATIM = (
    "__init__.py", "cli/__init__.py", "cli/train_ppo_ray.py",
    "datasets/__init__.py", "datasets/prompts_dataset.py", "datasets/reward_dataset.py",
    "datasets/sft_dataset.py", "datasets/utils.py",
    "utils/__init__.py", "utils/utils.py", "utils/config.py", "utils/math_utils.py",
    "utils/distributed_sampler.py", "utils/vlm_utils.py", "utils/logging_utils.py", "utils/agent.py",
    "utils/seqlen_balancing.py", "utils/deepspeed/__init__.py",
    "trainer/__init__.py", "trainer/ppo_utils/__init__.py", "trainer/ppo_utils/experience.py",
    "trainer/ppo_utils/kl_controller.py", "trainer/ppo_utils/length_penalty.py",
    "trainer/ppo_utils/replay_buffer.py",
)


def wheel_sources(wheel: Path) -> dict[str, str]:
    """Every ``openrlhf/*.py`` of the wheel, keyed by its path under ``openrlhf/``."""
    out: dict[str, str] = {}
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            marker = "openrlhf/"
            at = name.find(marker)
            if name.endswith(".py") and at >= 0 and ".dist-info/" not in name:
                out[name[at + len(marker):]] = z.read(name).decode("utf-8")
    return out


def _top(tree: ast.Module, name: str) -> ast.stmt:
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            return node
    raise LookupError(f"no top-level {name}")


def lift_functions(source: str, *names: str) -> str:
    """The named top-level functions, as source."""
    tree = ast.parse(source)
    return "\n\n".join(ast.unparse(_top(tree, n)) for n in names)


def lift_class(source: str, name: str, members: set[str], *, bases: bool = True) -> str:
    """Class ``name`` with only the ``members`` methods (and its class-level constants), as source."""
    node = _top(ast.parse(source), name)
    assert isinstance(node, ast.ClassDef)
    body = [s for s in node.body if isinstance(s, (ast.Assign, ast.AnnAssign))
            or (isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name in members)]
    found = {s.name for s in body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}
    if found != members:
        raise LookupError(f"{name} lacks {sorted(members - found)}")
    node.body, node.decorator_list = body, []
    if not bases:
        node.bases, node.keywords = [], []
    return ast.unparse(node)


def lift_method(source: str, cls: str, name: str) -> str:
    """One method of a class, dedented to a plain (``self``-taking) function, as source."""
    node = _top(ast.parse(source), cls)
    assert isinstance(node, ast.ClassDef)
    for s in node.body:
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name == name:
            s.decorator_list = []
            return ast.unparse(s)
    raise LookupError(f"{cls} has no {name}")


DEEPSPEED = '''"""Generated from openrlhf-0.11.2 utils/deepspeed/deepspeed.py: DeepspeedStrategy's own __init__,
setup_dataloader, print and is_rank_0 (the rest of the class drives DeepSpeed and is left out)."""
from abc import ABC
from collections import defaultdict

import torch
from torch import distributed as dist
from torchdata.stateful_dataloader import StatefulDataLoader

from openrlhf.utils.distributed_sampler import DistributedSampler


{strategy}
'''

PPO_TRAINER = '''"""Generated from openrlhf-0.11.2 trainer/ppo_trainer.py: the real prepare_datasets;
PPOTrainer is a stand-in."""
import json
import os

import ray

from openrlhf.datasets import PromptDataset
from openrlhf.datasets.utils import blending_datasets


{prepare_datasets}


@ray.remote
class PPOTrainer:
    """Stand-in for OpenRLHF's trainer actor (which needs vLLM engines and DeepSpeed actors): its
    __init__ builds the prompt loader as the real one does, and fit() draws rollout batches with
    SamplesGenerator's own _collect_prompt_batch and records them."""

    def __init__(self, pretrain, strategy, actor_model_group, critic_model_group, reward_model_group,
                 reference_model_group, vllm_engines, **generate_kwargs):
        import seethink_local.processing  # registers the tiny VLM's processor class with AutoProcessor
        from openrlhf.utils.utils import get_tokenizer

        self.strategy = strategy
        tokenizer = get_tokenizer(pretrain, None, "left", strategy,
                                  use_fast=not strategy.args.data.disable_fast_tokenizer)
        self.prompts_dataloader, self.eval_dataloader, self.max_steps = prepare_datasets(strategy, tokenizer)

    def get_max_steps(self):
        return self.max_steps

    def fit(self):
        from openrlhf.trainer.ppo_utils.samples_generator import _collect_prompt_batch

        it = iter(self.prompts_dataloader)
        rollouts = []
        while True:
            prompts, labels, images, exhausted = _collect_prompt_batch(it, self.strategy.args.rollout.batch_size)
            if prompts:
                rollouts.append([json.loads(label)["id"] for label in labels])
            if exhausted:
                break
        env = ray.get_runtime_context().runtime_env or {{}}
        record = {{"rollouts": rollouts, "pid": os.getpid(), "max_steps": self.max_steps,
                  "ordered": hasattr(prepare_datasets, "__seethink_unordered__"),
                  "setup_hook": env.get("worker_process_setup_hook"),
                  "env_vars": env.get("env_vars") or {{}}}}
        os.makedirs(self.strategy.args.ckpt.output_dir, exist_ok=True)
        with open(os.path.join(self.strategy.args.ckpt.output_dir, "standin_fit.json"), "w") as f:
            json.dump(record, f)
'''

SAMPLES_GENERATOR = '''"""Generated from openrlhf-0.11.2 trainer/ppo_utils/samples_generator.py:
_collect_prompt_batch and SamplesGenerator._process_response_into_experience, unchanged (the rest needs vLLM)."""
import torch

from openrlhf.trainer.ppo_utils.experience import Experience


{collect}


{generator}
'''

RAY_STANDINS = {
    "trainer/ray/__init__.py": '''"""Stand-in: OpenRLHF's vLLM engines need GPUs."""


def create_vllm_engines(*args, **kwargs):
    return []


def batch_vllm_engine_call(engines, method_name, *args, **kwargs):
    return []
''',
    "trainer/ray/launcher.py": '''"""Stand-in: OpenRLHF's DeepSpeed model actors need GPUs; a group holds none."""


class RayActorGroup:
    def __init__(self, num_nodes, num_gpus_per_node, ray_actor_type, pg=None, num_gpus_per_actor=1,
                 duplicate_actors=1, **kwargs):
        self.ray_actor_type = ray_actor_type

    def async_init_model_from_pretrained(self, *args, **kwargs):
        return []

    def async_save_model(self):
        return []

    def async_run_method(self, method_name, *args, **kwargs):
        return []


class ReferenceModelActor:
    pass


class RewardModelActor:
    pass
''',
    "trainer/ray/ppo_actor.py": '"""Stand-in."""\n\n\nclass PolicyModelActor:\n    pass\n',
    "trainer/ray/ppo_critic.py": '"""Stand-in."""\n\n\nclass CriticModelActor:\n    pass\n',
}

AIOHTTP_STANDIN = '"""Stand-in: agent.py imports aiohttp for remote reward servers, unused with a reward file."""\n'


def async_trainer_import(source: str) -> str:
    """ppo_trainer_async.py's own ``from openrlhf.trainer.ppo_trainer import ...`` line, kept to
    ``prepare_datasets`` (its other names need the GPU trainer)."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.ImportFrom) and node.module == "openrlhf.trainer.ppo_trainer":
            node.names = [a for a in node.names if a.name == "prepare_datasets"]
            assert node.names, "ppo_trainer_async no longer imports prepare_datasets"
            doc = '"""Generated from openrlhf-0.11.2 trainer/ppo_trainer_async.py: its import of prepare_datasets."""'
            return doc + "\n" + ast.unparse(node) + "\n"
    raise LookupError("ppo_trainer_async.py does not import from openrlhf.trainer.ppo_trainer")


def build_partial_openrlhf(wheel: Path, dest: Path) -> Path:
    """Write the partial package (see the module docstring) under ``dest``; returns ``dest``."""
    src = wheel_sources(wheel)
    root = dest / "openrlhf"
    files: dict[str, str] = {rel: src[rel] for rel in VERBATIM}
    strategy_methods = {"__init__", "setup_dataloader", "print", "is_rank_0"}
    files["utils/deepspeed/deepspeed.py"] = DEEPSPEED.format(
        strategy=lift_class(src["utils/deepspeed/deepspeed.py"], "DeepspeedStrategy", strategy_methods))
    files["trainer/ppo_trainer.py"] = PPO_TRAINER.format(
        prepare_datasets=lift_functions(src["trainer/ppo_trainer.py"], "prepare_datasets"))
    files["trainer/ppo_trainer_async.py"] = async_trainer_import(src["trainer/ppo_trainer_async.py"])
    files["trainer/ppo_utils/samples_generator.py"] = SAMPLES_GENERATOR.format(
        collect=lift_functions(src["trainer/ppo_utils/samples_generator.py"], "_collect_prompt_batch"),
        generator=lift_class(src["trainer/ppo_utils/samples_generator.py"], "SamplesGenerator",
                             {"_process_response_into_experience"}))
    files.update(RAY_STANDINS)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if importlib.util.find_spec("aiohttp") is None:
        (dest / "aiohttp.py").write_text(AIOHTTP_STANDIN, encoding="utf-8")
    return dest


def forget_partial_openrlhf(dest: Path) -> None:
    """Take the partial package out of this process again (other tests expect no ``openrlhf``)."""
    for name in list(sys.modules):
        module = sys.modules[name]
        where = getattr(module, "__file__", None) or ""
        if name == "openrlhf" or name.startswith("openrlhf.") or where.startswith(str(dest)):
            del sys.modules[name]
    while str(dest) in sys.path:
        sys.path.remove(str(dest))
