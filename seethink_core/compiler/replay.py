"""``replay share: 0.2``: a phase's replay of earlier stages' data, made once the phases are in order.

Which stages: those ``stages:`` names, else every stage before the phase's own (a merge counts as the
stages it joins, and a stage split by ``levels`` once). Their data lines are taken as their phases
trained on them, each distinct line once (a stage's levels share their lines); their own replays are
not replayed again. Every reward of the phase must find its columns in the replayed lines too, since
the replayed samples are graded by the phase's rewards.
"""

from __future__ import annotations

from seethink_core.compiler.diagnostics import Diags, suggest
from seethink_core.compiler.phases import check_columns
from seethink_core.compiler.stage_spec import StageSpec
from seethink_core.types import plan as P


def replay_of(s: StageSpec, index: int, specs: list[StageSpec], diags: Diags) -> P.Replay | None:
    options = s.replay_options
    if options is None:
        return None
    pos = s.where.get("replay", s.pos)
    what = f"stage '{s.name}'" if len(s.stages) == 1 else f"merge '{s.name}'"
    earlier = [spec for spec in specs[:index] if not set(spec.stages) & set(s.stages)]
    names = list(dict.fromkeys(n for spec in earlier for n in spec.stages))
    if not earlier:
        diags.error(f"{what} replays earlier stages, but none runs before it", pos,
                    hint="replay belongs in a later stage; drop it here")
        return None
    wanted = names if options.stages is None else list(dict.fromkeys(options.stages))
    later = [n for spec in specs[index:] for n in spec.stages]
    pos = s.where.get("replay.stages", pos)  # a stage's mistake is in the list
    ok = True
    for name in wanted:
        if name in names:
            continue
        ok = False
        if name in s.stages:
            diags.error(f"{what} cannot replay itself", pos, hint=f"stages that run before it: {', '.join(names)}")
        elif name in later:
            diags.error(f"{what} replays stage '{name}', which runs after it", pos,
                        hint=f"stages that run before it: {', '.join(names)}")
        else:
            diags.error(f"replay names an unknown stage '{name}'", pos,
                        hint=suggest(name, names + later) or f"stages that run before it: {', '.join(names)}")
    if not ok:
        return None
    items, seen = [], set()
    for spec in earlier:
        if not set(spec.stages) & set(wanted):
            continue
        for item in spec.data:
            key = P.canonical_json(P.to_data(item.ref))
            if key not in seen:
                seen.add(key)
                items.append(item)
    check_columns(StageSpec(name=s.name, pos=s.pos, stages=s.stages, capabilities=s.capabilities,
                            data=items, rewards=s.rewards), diags)
    order = [n for n in names if n in wanted]
    return P.Replay(share=options.share, stages=order, data=[item.ref for item in items])
