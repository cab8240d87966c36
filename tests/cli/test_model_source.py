"""A base model that cannot be had is one clear error, found before anything loads (and in preflight).

The hub is "unreachable" through a closed local port (HF_ENDPOINT=http://127.0.0.1:9): the lookup is
one request with no retries, so these tests take well under a second each.
"""

from __future__ import annotations

import pytest

from seethink_core.cli.main import main
from seethink_core.errors import ConfigError
from seethink_core.hooks.manager import get_plugins
from seethink_core.run.model_source import hub_lookup, locate_model

HUB_ID = "nobody-org/no-such-model"
CURR = """
curriculum c {{
    model   "{model}"
    backend local(device: "cpu")
    reward  accuracy
    stage s {{
        capability perception
        data       synthetic(capability: "perception", count: 4)
        steps      1
    }}
}}
"""


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """No network: a closed port for the hub, an empty cache of our own, offline mode off."""
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    hub_lookup.cache_clear()
    yield tmp_path / "hf-cache"
    hub_lookup.cache_clear()


def _error(name: str) -> str:
    with pytest.raises(ConfigError) as e:
        locate_model(name, get_plugins().registry)
    d = e.value.diagnostics[0]
    return f"{d.message} | {d.hint}"


def _cache(cache, repo: str) -> str:
    """A Hugging Face cache entry for ``repo`` as `hf download` leaves it; its snapshot folder."""
    entry = cache / f"models--{repo.replace('/', '--')}"
    (entry / "refs").mkdir(parents=True)
    (entry / "refs" / "main").write_text("abc123")
    snapshot = entry / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    return str(snapshot)


def test_a_missing_local_folder_is_named_as_such(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ckpt").mkdir()
    assert _error("./ckpt/x").startswith("model folder ./ckpt/x does not exist | a relative model path")
    assert _error("ckpt/x").startswith("model folder ckpt/x does not exist")  # ckpt/ is here: a path
    assert _error("/no/such/folder").startswith("model folder /no/such/folder does not exist")
    assert _error("ckpt").startswith("model folder ckpt has no config.json")
    assert locate_model("tiny-vlm", get_plugins().registry).kind == "registered"


def test_an_unreachable_hub_fails_at_once_with_a_download_hint(hub):
    text = _error(HUB_ID)
    assert "the Hugging Face hub (http://127.0.0.1:9) cannot be reached" in text
    assert "not in the local cache" in text and f"hf download {HUB_ID}" in text
    assert "did you mean 'tiny-vlm'?" in _error("tiny-vlmm")
    # A cached copy is used as it is, instead of transformers retrying the hub for minutes.
    snapshot = _cache(hub, "org/cached")
    found = locate_model("org/cached", None)
    assert (found.kind, found.path) == ("cached", snapshot) and "cannot be reached" in found.note


def test_offline_mode_looks_only_at_the_cache(hub, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:1")  # never asked: a lookup would be cached under it
    assert "HF_HUB_OFFLINE is set (offline mode looks only there)" in _error(HUB_ID)
    assert hub_lookup.cache_info().currsize == 0
    snapshot = _cache(hub, "org/cached")
    assert locate_model("org/cached", None).path == snapshot


def test_preflight_and_run_name_the_missing_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "400")
    monkeypatch.chdir(tmp_path)
    f = tmp_path / "c.curr"
    f.write_text(CURR.format(model="./ckpt/x"))
    assert main(["preflight", str(f)]) == 1
    out = capsys.readouterr().out
    assert "model ./ckpt/x: cannot be had" in out and "problem: model: model folder ./ckpt/x does not exist" in out
    assert main(["run", str(f), "--run-dir", str(tmp_path / "run"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "model folder ./ckpt/x does not exist" in err and "Repo id" not in err


def test_preflight_names_an_unreachable_hub_model(hub, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")
    f = tmp_path / "c.curr"
    f.write_text(CURR.format(model=HUB_ID))
    assert main(["preflight", str(f)]) == 1
    out = capsys.readouterr().out
    assert f"problem: model: model '{HUB_ID}': the Hugging Face hub (http://127.0.0.1:9) cannot be reached" in out
