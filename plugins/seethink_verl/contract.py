"""verl's own configuration contract: Hydra composition and verl's checks, run without a GPU.

``python -m verl.trainer.main_ppo OVERRIDES`` composes ``verl/trainer/config/ppo_trainer.yaml`` with
Hydra, then ``main()`` calls ``verl.utils.config.validate_config`` (batch arithmetic against the GPUs,
micro-batch settings, the actor's config dataclass and its ``__post_init__``/``validate``), and the
trainer and its workers turn the sections they read into verl's config dataclasses, each checking itself
in ``__post_init__``. ``VerlContract.check`` does the same on this machine:

1. Hydra's compose API over the release's own config folder with the overrides (an unknown key, a
   value of the wrong type, a malformed override fails here, as it would fail the job's start);
2. ``validate_config(config, need_reference_policy(config), need_critic(config))``, verl's own
   functions, exactly as ``main()`` calls them;
3. ``omega_conf_to_dataclass`` of the sections the trainer converts before it starts work: the
   rollout (``RolloutConfig``, as ``AgentLoopWorker`` does), the actor's optimizer
   (``FSDPOptimizerConfig``: the scheduler), the rollout's checkpoint engine, the algorithm
   (``AlgoConfig``); and the reward manager's name, which ``resolve_reward_manager_cls`` looks up among
   the classes registered with ``@register(NAME)`` in ``verl/experimental/reward_loop/reward_manager/``
   (read from that folder's syntax trees: importing it needs the reward loop's HTTP stack).

The model section (``HFModelConfig``) loads the model's files, so it is converted only when the
caller names a model folder that exists here. The source is a downloaded wheel (the tests pin
0.9.1) or the installed package (``seethink doctor``); nothing of verl is copied into the repository.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.util
import io
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONFIG_DIR = ("verl", "trainer", "config")
CONFIG_NAME = "ppo_trainer"
SFT_CONFIG_NAME = "sft_trainer_engine"
# What SFTTrainer._build_config converts (the model only with a model folder here: it loads the model's files).
SFT_SECTIONS = (
    ("engine", "FSDPEngineConfig (SFTTrainer)"),
    ("optim", "FSDPOptimizerConfig (SFTTrainer)"),
    ("checkpoint", "CheckpointConfig (SFTTrainer)"),
    ("profiler", "ProfilerConfig (SFTTrainer)"),
)
# (config path, what verl converts it into and where) for step 3 of the module docstring.
SECTIONS = (
    ("actor_rollout_ref.rollout", "RolloutConfig (AgentLoopWorker)"),
    ("actor_rollout_ref.actor.optim", "FSDPOptimizerConfig (the actor engine)"),
    ("actor_rollout_ref.rollout.checkpoint_engine", "CheckpointEngineConfig (the trainer)"),
    ("algorithm", "AlgoConfig (the trainer)"),
)
REWARD_MANAGERS = ("verl", "experimental", "reward_loop", "reward_manager")


class ContractError(Exception):
    """Hydra or verl's own checks rejected a configuration."""


def _extract(wheel: Path, dest: Path) -> Path:
    """The wheel's ``verl/`` package under ``dest`` (once per wheel; a finished extraction leaves a marker)."""
    marker = dest / ".complete"
    if marker.is_file():
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as z:
        members = [n for n in z.namelist() if n.startswith("verl/")]
        if not members:
            raise ContractError(f"{wheel.name} holds no verl package")
        z.extractall(dest, members=members)
    marker.write_text(wheel.name + "\n", encoding="utf-8")
    return dest


@dataclass
class VerlContract:
    """Composes and checks ``main_ppo`` configurations exactly as that verl release would."""

    root: Path  # the folder holding the ``verl`` package
    origin: str

    @classmethod
    def from_wheel(cls, wheel: Path, cache: Path | None = None) -> VerlContract:
        if cache is None:
            from seethink_core.user_cache import user_cache_dir

            cache = user_cache_dir("verl-src")
        return cls(_extract(wheel, cache / wheel.stem), wheel.name)

    @classmethod
    def from_installed(cls) -> VerlContract:
        spec = importlib.util.find_spec("verl")
        if spec is None or not spec.submodule_search_locations:
            raise ContractError("verl is not installed")
        return cls(Path(list(spec.submodule_search_locations)[0]).parent, "installed verl")

    @property
    def config_dir(self) -> Path:
        return self.root.joinpath(*CONFIG_DIR)

    def compose(self, overrides: list[str], config_name: str = CONFIG_NAME) -> Any:
        """Hydra's composition of ``ppo_trainer.yaml`` (or ``config_name``) with ``overrides``, resolved."""
        from hydra import compose, initialize_config_dir
        from hydra.core.global_hydra import GlobalHydra
        from omegaconf import OmegaConf

        if not self.config_dir.is_dir():
            raise ContractError(f"{self.origin} has no {'/'.join(CONFIG_DIR)} folder")
        GlobalHydra.instance().clear()
        try:
            with initialize_config_dir(config_dir=str(self.config_dir), version_base=None):
                config = compose(config_name=config_name, overrides=list(overrides))
            OmegaConf.resolve(config)
        except Exception as e:  # hydra's override, composition and interpolation errors
            raise ContractError(f"Hydra rejects the overrides: {type(e).__name__}: {e}") from None
        finally:
            GlobalHydra.instance().clear()
        return config

    def _import(self, name: str) -> Any:
        if "verl" not in sys.modules and str(self.root) not in sys.path:
            sys.path.insert(0, str(self.root))  # this release's verl, ahead of any other on the path
        return importlib.import_module(name)

    def check(self, overrides: list[str], *, model_dir: Path | None = None) -> Any:
        """The composed configuration once verl's checks pass; raises ``ContractError`` naming the failing one."""
        config = self.compose(overrides)
        try:
            config_mod = self._import("verl.utils.config")
            utils = self._import("verl.trainer.ppo.utils")
        except ImportError as e:
            raise ContractError(f"cannot import verl's config checks from {self.origin}: {e}") from None
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                config_mod.validate_config(config=config, use_reference_policy=utils.need_reference_policy(config),
                                           use_critic=utils.need_critic(config))
            except Exception as e:
                raise ContractError(f"verl's validate_config fails: {type(e).__name__}: {e}") from None
            sections = list(SECTIONS)
            if model_dir is not None and Path(model_dir).is_dir():
                sections.append(("actor_rollout_ref.model", "HFModelConfig (the trainer)"))
            _convert(config_mod, config, sections)
        manager = config.reward.reward_manager
        if manager.source == "register" and manager.name not in self.reward_managers():
            raise ContractError(f"verl has no reward manager '{manager.name}' "
                                f"(registered: {', '.join(sorted(self.reward_managers()))})")
        return config

    def check_sft(self, overrides: list[str], *, model_dir: Path | None = None) -> Any:
        """An SFT job's configuration (``sft_trainer_engine.yaml``) once the sections ``SFTTrainer`` converts
        accept it, and the profile interval check ``_validate_profiler_interval`` makes."""
        config = self.compose(overrides, SFT_CONFIG_NAME)
        try:
            config_mod = self._import("verl.utils.config")
        except ImportError as e:
            raise ContractError(f"cannot import verl's config checks from {self.origin}: {e}") from None
        sections = list(SFT_SECTIONS)
        if model_dir is not None and Path(model_dir).is_dir():
            sections.append(("model", "HFModelConfig (SFTTrainer)"))
        with contextlib.redirect_stdout(io.StringIO()):
            _convert(config_mod, config, sections)
        start, end = config.trainer.profile_interval
        if not (end >= start and (start >= 0 or end < 0)):
            raise ContractError(f"verl's SFTTrainer rejects trainer.profile_interval {[start, end]}")
        return config

    def reward_managers(self) -> set[str]:
        """The names ``@register(...)`` gives reward managers in the release's reward loop."""
        names: set[str] = set()
        for path in sorted(self.root.joinpath(*REWARD_MANAGERS).glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
                    for deco in node.decorator_list:
                        if (isinstance(deco, ast.Call) and getattr(deco.func, "id", None) == "register"
                                and deco.args and isinstance(deco.args[0], ast.Constant)):
                            names.add(str(deco.args[0].value))
        return names


def _convert(config_mod: Any, config: Any, sections: list[tuple[str, str]]) -> None:
    """``omega_conf_to_dataclass`` of each section, as verl's trainers convert them."""
    for path, what in sections:
        node = config
        for part in path.split("."):
            node = node[part]
        try:
            config_mod.omega_conf_to_dataclass(node)
        except Exception as e:
            raise ContractError(f"verl's {what} rejects {path}: {type(e).__name__}: {e}") from None
