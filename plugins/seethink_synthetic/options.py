"""Options of the ``synthetic`` data source (imported by plugin.py: keep it free of PIL)."""

from __future__ import annotations

from dataclasses import dataclass

from seethink_core.errors import did_you_mean
from seethink_core.types.options import OptionError, opt

LEVEL_COUNT = 4  # keep equal to len(levels.LEVELS); a test checks it


@dataclass(frozen=True)
class SyntheticOptions:
    families: list[str] = opt(default_factory=list, doc="task families to draw from (empty = all)")
    capability: str | None = opt(None, doc="keep one capability: perception, visual_reasoning or "
                                           "textual_reasoning (default: all three)")
    level: int | str = opt("mixed", doc=f"difficulty level 0..{LEVEL_COUNT - 1}, or \"mixed\" (uniform)")
    image_size: int = opt(112, doc="image side in pixels (112 px = 16 visual tokens for Qwen2.5-VL)",
                          min=32, max=2048)
    count: int = opt(1000, doc="how many samples", min=1)
    seed: int | None = opt(None, doc="overrides the phase seed")
    mcq: bool | float = opt(False, doc="multiple choice: true, false, or the fraction of items that are")

    def __post_init__(self) -> None:
        if isinstance(self.level, str) and self.level != "mixed":
            raise ValueError(f"option 'level' must be an integer or \"mixed\", not {self.level!r}")
        if isinstance(self.level, int) and not 0 <= self.level < LEVEL_COUNT:
            raise ValueError(f"option 'level' must be between 0 and {LEVEL_COUNT - 1}, not {self.level}")
        if not isinstance(self.mcq, bool) and not 0.0 <= self.mcq <= 1.0:
            raise ValueError(f"option 'mcq' must be true, false or a fraction in [0, 1], not {self.mcq}")
        self._check_families()
        caps = ("perception", "visual_reasoning", "textual_reasoning")
        if self.capability is not None and self.capability not in caps:
            raise ValueError(f"option 'capability' must be one of {', '.join(caps)}, not {self.capability!r}")

    def _check_families(self) -> None:
        """Every family must exist: an unknown one fails at compile time, not when the data is first read."""
        if not self.families:
            return
        from seethink_synthetic.families import families  # the registry (no PIL); imported only when named

        known = sorted(families())
        for name in self.families:
            if name not in known:
                raise OptionError("families", f"option 'families': unknown family '{name}'",
                                  hint=did_you_mean(name, known) or f"families: {', '.join(known)}")
