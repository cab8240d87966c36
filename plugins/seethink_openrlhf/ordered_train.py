"""``python -m seethink_openrlhf.ordered_train <train_ppo_ray flags>``: OpenRLHF 0.11.2's job, in the exported order.

OpenRLHF 0.11.2 hard-codes a shuffled prompt loader: ``openrlhf/trainer/ppo_trainer.py::prepare_datasets``
calls ``strategy.setup_dataloader(prompts_dataset, 1, True, True, ...)`` (the 4th argument is
``shuffle``), and ``DeepspeedStrategy.setup_dataloader`` hands it to a ``DistributedSampler`` (when
``torch.distributed`` is up) or to torchdata's ``StatefulDataLoader``. No flag turns it off, so the
order seethink exported (difficulty order, pacing, stitched blocks, the runner's own shuffle) would
be replaced by OpenRLHF's. This launcher takes the same flags as ``openrlhf.cli.train_ppo_ray`` and
runs that module's own ``__main__`` (its parser, its post-parse checks, its ``train(args)``) with one
change: the *train prompts* loader is built with ``shuffle=False``.

How, and why this way:

- **What is patched.** ``prepare_datasets`` is wrapped; during the call, and only on that strategy
  object, ``setup_dataloader`` is wrapped so that a call asking for ``shuffle=True`` gets
  ``shuffle=False``. Everything else is OpenRLHF's: the eval loader (already unshuffled), the
  actor's replay-buffer loader (built elsewhere, in another process), ``drop_last``, the sampler,
  ``StatefulDataLoader``'s resume state. Afterwards the wrapper checks that at most one loader was
  unshuffled, that it is the train loader ``prepare_datasets`` returns first, and that this loader's
  sampler yields dataset rows in increasing order; anything else is an ``OrderPatchError`` (never a
  silent shuffle when OpenRLHF's internals drift).
- **Data-parallel ranks.** In 0.11.2 the loader lives in the single ``PPOTrainer`` controller, where
  ``torch.distributed`` is not initialised, so it is one sequential loader. Were it built on ``W``
  ranks, OpenRLHF's ``DistributedSampler(shuffle=False, drop_last=True)`` gives rank ``r`` rows
  ``r, r+W, r+2W, ...``: the ranks' ``k``-th draws together are rows ``[kW, kW+W)``, the exported
  order block by block, the last ``len % W`` rows dropped. Resuming skips ``samples_yielded`` rows
  of that same order (``StatefulDataLoader`` fast-forwards samplers that keep no state); the saved
  state of a job that still shuffled is refused with a reason (no file position matches it).
- **Which processes.** ``PPOTrainer`` is a Ray actor: ``prepare_datasets`` runs in a Ray worker,
  not in this process. So the patch is installed here *and* named as the job's Ray
  ``worker_process_setup_hook``, which every worker of the job runs at start. In each process the
  patch waits for ``openrlhf.trainer.ppo_trainer`` to be imported (an import hook) instead of
  importing it: the vLLM workers never import the trainer, and OpenRLHF keeps DeepSpeed out of them
  on purpose (``openrlhf/trainer/__init__.py``).
- **Ray's start.** ``train()`` calls ``ray.init(runtime_env={"env_vars": ...})`` itself when Ray is
  not up. Rather than copy those defaults, ``ray.init`` is wrapped so that OpenRLHF's own call
  (or Ray's auto-init) gets the setup hook added to whatever runtime env it passes; the address is
  untouched, so ``$RAY_ADDRESS`` (what the launcher sets from ``ray_address``) still decides the
  cluster. Should Ray already be up in this process without the hook, the job stops with an error.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import inspect
import runpy
import sys
import threading
import types
from collections.abc import Callable, Sequence
from typing import Any

ENTRY_MODULE = "openrlhf.cli.train_ppo_ray"
TRAINER_MODULE = "openrlhf.trainer.ppo_trainer"
ASYNC_TRAINER_MODULE = "openrlhf.trainer.ppo_trainer_async"  # imports prepare_datasets by name
SETUP_HOOK = "seethink_openrlhf.ordered_train.worker_setup_hook"
HOOK_KEY = "worker_process_setup_hook"
# Where Ray ≥ 2.9 keeps a module-path hook inside the job's env_vars (ray._private.ray_constants).
HOOK_ENV_VAR = "__RAY_WORKER_PROCESS_SETUP_HOOK_ENV_VAR"
ORIGINAL_ATTR = "__seethink_unordered__"  # on the wrapper: OpenRLHF's own prepare_datasets

_lock = threading.RLock()


class OrderPatchError(RuntimeError):
    """OpenRLHF's internals are not what the order-keeping patch was written against (0.11.2)."""


def _openrlhf_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("openrlhf")
    except metadata.PackageNotFoundError:
        return "unknown"


def _drift(what: str) -> OrderPatchError:
    return OrderPatchError(
        f"seethink cannot keep the exported prompt order: {what} (written against OpenRLHF 0.11.2, found "
        f"{_openrlhf_version()}). Refusing to train on a shuffled order; pin openrlhf==0.11.2 or update "
        "seethink_openrlhf.ordered_train.")


# ---- the patch -------------------------------------------------------------------------------------------


def _check_prepare_datasets(func: Any) -> None:
    """What the wrapper relies on, checked before any job resources are spent."""
    if not inspect.isfunction(func):
        raise _drift(f"{TRAINER_MODULE}.prepare_datasets is {type(func).__name__}, not a function")
    params = list(inspect.signature(func).parameters)
    if params[:2] != ["strategy", "tokenizer"]:
        raise _drift(f"prepare_datasets takes ({', '.join(params)}), not (strategy, tokenizer)")
    if "setup_dataloader" not in func.__code__.co_names:
        raise _drift("prepare_datasets no longer builds its loaders with strategy.setup_dataloader")


def _sampler_indices(loader: Any) -> list[int]:
    sampler = getattr(loader, "sampler", None)
    if sampler is None:
        raise _drift(f"the train prompts loader ({type(loader).__name__}) has no sampler to check")
    return [int(i) for i in sampler]


def _build_in_order(original: Callable[..., Any], strategy: Any, tokenizer: Any, *args: Any,
                    **kwargs: Any) -> Any:
    build = strategy.setup_dataloader
    signature = inspect.signature(build)
    if "shuffle" not in signature.parameters:
        raise _drift(f"{type(strategy).__name__}.setup_dataloader has no 'shuffle' parameter")
    unshuffled: list[Any] = []  # loaders that asked for shuffle=True and were built without it

    def setup_dataloader(*a: Any, **k: Any) -> Any:
        bound = signature.bind(*a, **k)
        bound.apply_defaults()
        if not bound.arguments["shuffle"]:  # the eval loader: exactly as OpenRLHF builds it
            return build(*a, **k)
        bound.arguments["shuffle"] = False
        loader = build(*bound.args, **bound.kwargs)
        unshuffled.append(loader)
        return loader

    # An instance attribute, for this call only: any later setup_dataloader call on this strategy is
    # OpenRLHF's own (none in 0.11.2's PPO path; its actors' replay buffers use a torch DataLoader).
    shadowed = strategy.__dict__.get("setup_dataloader")
    strategy.setup_dataloader = setup_dataloader
    try:
        result = original(strategy, tokenizer, *args, **kwargs)
    finally:
        if shadowed is None:
            del strategy.setup_dataloader
        else:
            strategy.setup_dataloader = shadowed

    train = result[0] if isinstance(result, tuple) and result else None
    if train is None:
        raise _drift(f"prepare_datasets returned {type(result).__name__}, not (train loader, eval loader, steps)")
    # One shuffled request, the train loader's (0.11.2); none is fine too (a release that stops shuffling,
    # checked by the order test below). More, or another loader's, and which one to unshuffle is a guess.
    if len(unshuffled) > 1 or (unshuffled and unshuffled[0] is not train):
        raise _drift(f"prepare_datasets asked for {len(unshuffled)} shuffled loader(s); expected at most one, the "
                     "train prompts loader it returns first")
    indices = _sampler_indices(train)
    if any(b <= a for a, b in zip(indices, indices[1:])):
        raise _drift(f"with shuffle=False the train prompts loader's sampler ({type(train.sampler).__name__}) "
                     "still does not serve rows in order")
    _refuse_shuffled_resume(train)
    say = getattr(strategy, "print", print)  # OpenRLHF's print: rank 0 only
    say(f"[seethink] OpenRLHF's prompt loader keeps the exported order: {len(indices)} of "
        f"{len(train.dataset)} prompts served in file order (shuffle off)")
    return result


def _refuse_shuffled_resume(loader: Any) -> None:
    """A checkpoint saved by a shuffled job (one started before this launcher) holds the random sampler's
    state; torchdata would fail on it with a bare AssertionError inside PPOTrainer.fit, and no file
    position matches the random subset it had served. Say so instead."""
    load = getattr(loader, "load_state_dict", None)
    if load is None:
        return

    def load_state_dict(state: Any) -> Any:
        sampler_state = state.get("_sampler_iter_state") if isinstance(state, dict) else None
        # A sequential (or OpenRLHF DistributedSampler) loader saves only samples_yielded here.
        if isinstance(sampler_state, dict) and {"sampler_iter_state", "sampler_state"} & set(sampler_state):
            raise OrderPatchError(
                "the in-phase checkpoint (--ckpt.path) was saved by a job whose prompt loader shuffled, so it "
                "cannot resume in the exported order; delete the phase's resume/ folder to restart the phase")
        return load(state)

    loader.load_state_dict = load_state_dict


def _ordered(original: Callable[..., Any]) -> Callable[..., Any]:
    # functools.wraps keeps __module__/__qualname__, so Ray's cloudpickle, pickling the PPOTrainer actor
    # class by value, refers to this function as openrlhf.trainer.ppo_trainer.prepare_datasets and each
    # worker resolves that name in its own (patched) module.
    @functools.wraps(original)
    def prepare_datasets(strategy: Any, tokenizer: Any, *args: Any, **kwargs: Any) -> Any:
        return _build_in_order(original, strategy, tokenizer, *args, **kwargs)

    setattr(prepare_datasets, ORIGINAL_ATTR, original)
    return prepare_datasets


def is_ordered(func: Any) -> bool:
    return getattr(func, ORIGINAL_ATTR, None) is not None


def patch_trainer(module: types.ModuleType) -> None:
    """Wrap ``module.prepare_datasets`` (``openrlhf.trainer.ppo_trainer``); idempotent."""
    with _lock:
        current = getattr(module, "prepare_datasets", None)
        if current is None:
            raise _drift(f"{module.__name__} has no prepare_datasets")
        if is_ordered(current):
            return
        _check_prepare_datasets(current)
        module.prepare_datasets = _ordered(current)


def unpatch_trainer(module: types.ModuleType) -> None:
    """Undo ``patch_trainer`` (tests load OpenRLHF's module once and compare both behaviours)."""
    with _lock:
        original = getattr(getattr(module, "prepare_datasets", None), ORIGINAL_ATTR, None)
        if original is not None:
            module.prepare_datasets = original


def _patch_async_trainer(module: types.ModuleType) -> None:
    """``ppo_trainer_async`` binds ``prepare_datasets`` at its import; give it the ordered one."""
    trainer = sys.modules.get(TRAINER_MODULE)
    if trainer is None:
        raise _drift(f"{ASYNC_TRAINER_MODULE} was imported without {TRAINER_MODULE}")
    patch_trainer(trainer)
    bound = getattr(module, "prepare_datasets", None)
    if bound is trainer.prepare_datasets:
        return
    if bound is not getattr(trainer.prepare_datasets, ORIGINAL_ATTR):
        raise _drift(f"{ASYNC_TRAINER_MODULE}.prepare_datasets is not {TRAINER_MODULE}'s")
    module.prepare_datasets = trainer.prepare_datasets


PATCHES: dict[str, Callable[[types.ModuleType], None]] = {
    TRAINER_MODULE: patch_trainer,
    ASYNC_TRAINER_MODULE: _patch_async_trainer,
}


# ---- installing it in a process --------------------------------------------------------------------------


class _PatchingLoader(importlib.abc.Loader):
    """The module's own loader, then the patch, before anyone can use the module."""

    def __init__(self, inner: Any, patch: Callable[[types.ModuleType], None]):
        self._inner = inner
        self._patch = patch

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return self._inner.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        self._inner.exec_module(module)
        self._patch(module)

    def __getattr__(self, name: str) -> Any:  # get_source, is_package, ... (inspect, linecache, reload)
        if name == "_inner":  # a copy made without __init__: no recursion through the lookup below
            raise AttributeError(name)
        return getattr(self._inner, name)


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Patches the modules in ``PATCHES`` as they are imported, without importing them early."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: types.ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        patch = PATCHES.get(fullname)
        if patch is None:
            return None
        for finder in sys.meta_path:
            if finder is self or isinstance(finder, _PatchOnImport):
                continue
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find is not None else None
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _PatchingLoader(spec.loader, patch)
                return spec
        return None


def install() -> None:
    """Keep the exported order in this process: patch what is imported, and whatever is imported later."""
    with _lock:
        if not any(isinstance(f, _PatchOnImport) for f in sys.meta_path):
            sys.meta_path.insert(0, _PatchOnImport())
        for name, patch in PATCHES.items():
            module = sys.modules.get(name)
            if module is not None:
                patch(module)


def uninstall() -> None:
    with _lock:
        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _PatchOnImport)]


def worker_setup_hook() -> None:
    """Ray runs this in every worker process of the job at start (``worker_process_setup_hook``)."""
    install()


# ---- Ray -------------------------------------------------------------------------------------------------


def with_setup_hook(runtime_env: Any) -> dict[str, Any]:
    """``runtime_env`` (a dict or Ray's ``RuntimeEnv``, or None) plus the setup hook; refuses another hook."""
    env = dict(runtime_env or {})
    hook = env.get(HOOK_KEY)
    if hook not in (None, SETUP_HOOK):
        raise OrderPatchError(f"the job's Ray runtime_env already names a worker_process_setup_hook ({hook!r}); "
                              f"seethink needs {SETUP_HOOK!r} there to keep the exported prompt order")
    env[HOOK_KEY] = SETUP_HOOK
    return env


def hook_ray_init(ray: Any) -> Callable[[], None]:
    """Make every ``ray.init`` of this process (OpenRLHF's ``train()``, Ray's auto-init) carry the setup
    hook; returns what undoes it."""
    original = ray.init
    if getattr(original, "__seethink_hooked__", False):
        return lambda: None

    @functools.wraps(original)
    def init(*args: Any, **kwargs: Any) -> Any:
        kwargs["runtime_env"] = with_setup_hook(kwargs.get("runtime_env"))
        return original(*args, **kwargs)

    init.__seethink_hooked__ = True  # type: ignore[attr-defined]
    ray.init = init

    def restore() -> None:
        ray.init = original

    return restore


def running_hook(ray: Any) -> str | None:
    """The setup hook of the Ray job this process is connected to (None when it has none)."""
    env = ray.get_runtime_context().runtime_env or {}
    return env.get(HOOK_KEY) or (env.get("env_vars") or {}).get(HOOK_ENV_VAR)


def require_hook_if_running(ray: Any) -> None:
    """``train()`` skips ``ray.init`` when Ray is up; then the running job must already carry the hook."""
    if ray.is_initialized() and running_hook(ray) != SETUP_HOOK:
        raise OrderPatchError(
            "Ray is already initialised in this process without seethink's worker_process_setup_hook, so the "
            f"PPOTrainer actor would build a shuffled prompt loader; start Ray with runtime_env="
            f"{{'{HOOK_KEY}': '{SETUP_HOOK}'}} or let the job start it")


def main(argv: Sequence[str] | None = None) -> None:
    """Run OpenRLHF's ``train_ppo_ray`` ``__main__`` with ``argv`` (default: this process's arguments)."""
    flags = list(sys.argv[1:] if argv is None else argv)
    install()
    import ray  # OpenRLHF imports it first thing too; a missing Ray fails here the same way

    require_hook_if_running(ray)
    hook_ray_init(ray)
    sys.argv = [ENTRY_MODULE, *flags]  # argparse reads sys.argv[1:]; run_module sets [0] to the file
    runpy.run_module(ENTRY_MODULE, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    # Run from the importable module, not this __main__ copy, so the patch state and the setup hook
    # Ray's workers import are one and the same module.
    from seethink_openrlhf.ordered_train import main as _main

    _main()
