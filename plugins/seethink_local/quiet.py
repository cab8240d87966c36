"""Keep transformers' and huggingface_hub's own output out of ``seethink run`` unless asked for.

Loading and saving even the tiny model draws tqdm bars ("Loading weights", "Loading checkpoint shards",
"Writing model shards") and transformers logs deprecation notices (``past_key_values`` …) that say
nothing about the run and break up seethink's progress bars. ``quiet_hf()`` silences them only around
the backend's own calls and puts every setting back afterwards: a program that imports seethink keeps
its own transformers settings. ``SEETHINK_VERBOSE=1`` (``seethink run --verbose``) leaves them on, and
so do the libraries' own switches when set (``TRANSFORMERS_VERBOSITY``, ``HF_HUB_DISABLE_PROGRESS_BARS``).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# Python warnings raised from inside these packages (deprecations aimed at their callers' code).
LIBRARIES = r"(transformers|huggingface_hub|tokenizers|accelerate)(\.|$)"


def verbose() -> bool:
    return os.environ.get("SEETHINK_VERBOSE", "").strip().lower() in ("1", "true", "yes", "on")


@contextmanager
def quiet_hf() -> Iterator[None]:
    """Within: no Hugging Face progress bars, transformers logs errors only, the libraries' Python warnings
    ignored. Nests; restores what it found."""
    if verbose():
        yield
        return
    from transformers.utils import logging as hf_logging

    bars = "HF_HUB_DISABLE_PROGRESS_BARS" not in os.environ  # the user's own choice wins
    level = None if "TRANSFORMERS_VERBOSITY" in os.environ else hf_logging.get_verbosity()
    restore_bars = _bars_off() if bars else None
    if level is not None:
        hf_logging.set_verbosity_error()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=LIBRARIES)
            yield
    finally:
        if level is not None:
            hf_logging.set_verbosity(level)
        if restore_bars is not None:
            restore_bars()


def _bars_off() -> Callable[[], None]:
    """Turn off transformers' and huggingface_hub's tqdm bars; return what turns them back on as found."""
    from huggingface_hub.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars
    from transformers.utils import logging as hf_logging

    hf_on, hub_on = hf_logging.is_progress_bar_enabled(), not are_progress_bars_disabled()
    hf_logging.disable_progress_bar()  # turns the hub's off too
    disable_progress_bars()

    def restore() -> None:
        if hf_on:
            hf_logging.enable_progress_bar()  # turns the hub's on too
        if hub_on:
            enable_progress_bars()
        else:
            disable_progress_bars()

    return restore
