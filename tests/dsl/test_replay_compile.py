"""``replay`` in the plan, and the KL anchors of ``handoff reference:``."""

from __future__ import annotations

import pytest

from seethink_core.compiler import compile_text
from seethink_core.errors import DslError
from seethink_core.hooks.backend import Checkpoint
from seethink_core.run.phase_inputs import anchor_phase, reference_checkpoint

CURR = """
curriculum c {
    model "tiny_vlm"
    reward accuracy
    algorithm grpo(kl: 0.01)
    stage p { data synthetic(level: 0) weight 2  data synthetic(level: 1)  capability perception  steps 4
              levels easy: 0..0.5, hard: 0.5..1 }
    stage t { data synthetic(level: 2)  capability textual_reasoning  steps 4 }
    stage v { data synthetic(level: 3)  capability visual_reasoning  steps 4  %s }
}
"""


def _plan(fakes, body: str = "", **kw):
    return compile_text(CURR % body, "r.curr", registry=fakes, **kw)


def test_replay_lists_the_earlier_stages_lines_once(fakes):
    v = _plan(fakes, "replay share: 0.25").phases[-1]
    assert v.replay.share == 0.25 and v.replay.stages == ["p", "t"]
    # p's two lines once (its two levels share them), then t's; weights and capabilities as trained.
    assert [(d.options["level"], d.weight, d.capability) for d in v.replay.data] == [
        (0, 2.0, "perception"), (1, 1.0, "perception"), (2, 1.0, "textual_reasoning")]
    assert [d.options["level"] for d in v.data] == [3]  # the phase's own lines are unchanged
    named = _plan(fakes, "replay share: 0.1, stages: [t]").phases[-1].replay
    assert named.stages == ["t"] and len(named.data) == 1


def test_replay_layers_and_sets_like_other_keyed_settings(fakes):
    by_set = _plan(fakes, "replay share: 0.25", overrides={"stage.v.replay.stages": "[p]"}).phases[-1].replay
    assert by_set.share == 0.25 and by_set.stages == ["p"]
    only_set = _plan(fakes, overrides={"stage.v.replay.share": "0.5"}).phases[-1].replay
    assert only_set.share == 0.5 and only_set.stages == ["p", "t"]
    assert _plan(fakes).phases[-1].replay is None


def test_a_plan_without_replay_keeps_its_hash(fakes):
    """Phase.replay is hashed only when set: a plan from before replay existed resumes after it."""
    from seethink_core.types import plan as P

    plan = _plan(fakes)
    assert all("replay" not in p for p in P.hashed_data(plan)["phases"])
    assert "replay" in P.hashed_data(_plan(fakes, "replay share: 0.2"))["phases"][-1]
    assert _plan(fakes).hash() == plan.hash() != _plan(fakes, "replay share: 0.2").hash()


@pytest.mark.parametrize("body, message", [
    ("replay share: 0.2, stages: [q]", "replay names an unknown stage 'q'"),
    ("replay share: 0.2, stages: [v]", "stage 'v' cannot replay itself"),
    ("replay share: 1", "replay: option 'share' must be below 1, not 1"),
    ("replay share: 0", "replay: option 'share' must be above 0, not 0"),
    ("replay stages: [p], sahre: 0.2", "replay: unknown option 'sahre'"),
])
def test_replay_mistakes(fakes, body, message):
    with pytest.raises(DslError) as e:
        _plan(fakes, body)
    assert any(message in d.message for d in e.value.diagnostics), [d.message for d in e.value.diagnostics]


def test_replay_needs_an_earlier_stage_and_a_later_one_is_named(fakes):
    text = CURR.replace("capability perception  steps 4", "capability perception  steps 4 replay share: 0.2") % ""
    with pytest.raises(DslError, match="replays earlier stages, but none runs before it"):
        compile_text(text, "r.curr", registry=fakes)
    text = CURR.replace("capability textual_reasoning  steps 4", "capability textual_reasoning  steps 4 "
                        "replay share: 0.2, stages: [v]") % ""
    with pytest.raises(DslError, match="replays stage 'v', which runs after it"):
        compile_text(text, "r.curr", registry=fakes)


def test_merge_members_must_agree_on_replay(fakes):
    text = CURR % "replay share: 0.2" + ""
    text = text.replace("    stage v {", "    stage w { data synthetic(level: 3)  steps 4 }\n    stage v {")
    text = text.replace("\n}\n", "\n    merge w, v as wv\n}\n")
    with pytest.raises(DslError, match="differ in the replay"):
        compile_text(text, "r.curr", registry=fakes)


@pytest.mark.parametrize("reference, anchors", [
    ("phase_init", ["p.easy", "p.hard", "t", "v"]),
    ("stage_init", ["p.easy", "p.easy", "t", "v"]),
    ("previous_init", ["p.easy", "p.easy", "p.easy", "t"]),
])
def test_kl_anchors(fakes, reference, anchors):
    plan = _plan(fakes, overrides={"handoff.reference": reference})
    assert [p.handoff.reference for p in plan.phases] == [reference] * 4
    starts = {p.name: Checkpoint(f"/ckpt/start-of-{p.name}") for p in plan.phases}
    refs = [reference_checkpoint(p, starts[p.name], plan, lambda q: starts[q.name]) for p in plan.phases]
    assert [r.path for r in refs] == [f"/ckpt/start-of-{a}" for a in anchors]
    if reference != "phase_init":
        assert [anchor_phase(plan, p).name for p in plan.phases] == anchors
    base = _plan(fakes, overrides={"handoff.reference": "base"})
    assert reference_checkpoint(base.phases[2], starts["t"], base, lambda q: starts[q.name]).path == "tiny_vlm"
    no_kl = _plan(fakes, overrides={"algorithm.kl": "0"})
    assert reference_checkpoint(no_kl.phases[1], starts["p.hard"], no_kl) is None
