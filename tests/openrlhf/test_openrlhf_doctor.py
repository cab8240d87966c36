"""``seethink doctor --backend openrlhf`` says what a machine lacks; the plugin itself stays light."""

from __future__ import annotations

import json
import subprocess
import sys

from seethink_openrlhf import doctor
from seethink_openrlhf.contract import TrainPPOContract
from seethink_openrlhf.options import OpenRLHFOptions

from seethink_core.cli.main import main
from seethink_core.hooks import doctor as core_doctor


def by_name(checks) -> dict:
    return {c.name: c for c in checks}


def test_plugin_module_imports_nothing_heavy():
    code = ("import sys, seethink_openrlhf.plugin; "
            "print([m for m in ('torch', 'ray', 'vllm', 'transformers', 'deepspeed') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_missing_openrlhf_is_reported_with_a_fix(monkeypatch):
    monkeypatch.setattr(core_doctor, "installed_version", lambda dist: None)
    checks = by_name(doctor.checks(OpenRLHFOptions()))
    assert checks["openrlhf"].status == "fail" and "seethink[openrlhf]" in checks["openrlhf"].fix
    assert checks["vllm"].status == "fail" and checks["ray"].status == "fail"
    assert "command contract" not in checks  # nothing to check it against
    assert checks["flash-attn"].status == "warn"


def test_installed_release_is_checked_against_every_command(monkeypatch, openrlhf_wheel):
    monkeypatch.setattr(core_doctor, "installed_version", lambda dist: "0.11.2")
    monkeypatch.setattr(TrainPPOContract, "from_installed", classmethod(lambda cls: cls.from_wheel(openrlhf_wheel)))
    checks = by_name(doctor.checks(OpenRLHFOptions(vllm_engines=8)))
    assert checks["openrlhf"].status == "ok"
    assert checks["command contract"].status == "ok", checks["command contract"].detail
    assert len(doctor.sample_commands(OpenRLHFOptions())) == 12  # 6 methods × (fresh, resume)


def test_a_release_with_other_flags_fails_the_contract(monkeypatch, openrlhf_wheel):
    import zipfile

    with zipfile.ZipFile(openrlhf_wheel) as z:
        name = next(n for n in z.namelist() if n.endswith("openrlhf/cli/train_ppo_ray.py"))
        source = z.read(name).decode().replace('"--actor.freeze_visual_encoder"', '"--actor.freeze_vision"')
        config = z.read(name.replace("cli/train_ppo_ray.py", "utils/config.py")).decode()
    monkeypatch.setattr(core_doctor, "installed_version", lambda dist: "0.12.0")
    monkeypatch.setattr(TrainPPOContract, "from_installed",
                        classmethod(lambda cls: cls.from_sources(source, config, "changed")))
    checks = by_name(doctor.checks(OpenRLHFOptions(vllm_engines=8)))
    assert checks["openrlhf"].status == "warn"
    assert checks["command contract"].status == "fail"
    assert "--actor.freeze_visual_encoder" in checks["command contract"].detail


def test_cli_doctor(capsys):
    assert main(["doctor"]) in (0, 1)
    out = capsys.readouterr().out
    assert "python" in out and "transformers" in out
    rc = main(["doctor", "--backend", "openrlhf", "--set", "gpus_per_node=2", "--json"])
    rows = json.loads(capsys.readouterr().out)
    names = [r["name"] for r in rows]
    assert "backend openrlhf" in names and "openrlhf" in names and "GPUs" in names
    assert rc == (1 if any(r["status"] == "fail" for r in rows) else 0)


def test_cli_doctor_rejects_a_misspelled_option(capsys):
    assert main(["doctor", "--backend", "openrlhf", "--set", "gpus_per_nod=2"]) == 2
    assert "did you mean 'gpus_per_node'" in capsys.readouterr().err
    assert main(["doctor", "--backend", "no_such_backend"]) == 2
