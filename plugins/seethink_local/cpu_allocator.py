"""glibc's allocator told to keep a CPU run's freed memory for the next step instead of returning it.

A training step on the CPU allocates and frees the same large tensors every step (activations,
gradients, logits: 4 MB each for the ~10M tiny VLM). glibc serves blocks above its mmap threshold
with fresh mappings and trims the heap's free top back to the kernel, so those tensors come back as
new pages the next step, each zeroed by the kernel on first touch: about 3 µs a page on the
development machine (a VM). Measured on a 4-step ~10M side-by-side run: 220–236 thousand minor page
faults and 0.79–1.02 s of system time, against 126–133 thousand and 0.30–0.57 s with the settings
below; peak RSS unchanged (871–890 MB both ways), since what is kept is what the step used
(decisions.md 61). This is what PyTorch's CPU performance guides get by preloading jemalloc or
tcmalloc, done in the process with ``mallopt``.

Process-wide, as the thread count is: set once when a local backend on the CPU is made, on Linux
with glibc only (musl's ``mallopt`` does nothing; other systems have other allocators).
"""

from __future__ import annotations

import ctypes
import platform
import sys

M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3  # glibc's malloc.h
# The largest mmap threshold glibc accepts on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX): blocks above it
# (a model's weights as they load) still get their own mappings and go back when freed.
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 1 << 30  # free memory at the heap's top is returned only past 1 GiB
TOP_PAD = 64 << 20  # the heap grows 64 MB at a time, fewer brk calls

_settings: dict[int, int] | None = None  # what was applied, once


def keep_freed_memory() -> dict[int, int]:
    """Apply the settings (once per process); returns those glibc accepted, empty where it is not glibc."""
    global _settings
    if _settings is not None:
        return _settings
    _settings = {}
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return _settings
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return _settings
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    for param, value in ((M_MMAP_THRESHOLD, MMAP_THRESHOLD), (M_TRIM_THRESHOLD, TRIM_THRESHOLD),
                         (M_TOP_PAD, TOP_PAD)):
        if mallopt(param, value) == 1:
            _settings[param] = value
    return _settings
