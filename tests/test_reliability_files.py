"""Damaged checkpoints (truncated, overwritten, garbage or incomplete meta.json), a full disk
under the checkpoints, and the corpus cache's temporary files: real files, real processes."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from fault_helpers import ROOT, TINY, env, meta, tangtui, train

from engine.checkpoint import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint
from engine.trainer_ckpt import CheckpointKeeper
from tangtui.runs.store import Store


def tiny_ckpt(step: int) -> Checkpoint:
    rng = np.random.default_rng(step)
    return Checkpoint({"w": rng.normal(size=(8, 4)).astype(np.float32)},
                      {"engine": "numpy", "config": {}, "vocab": ["a", "b"], "step": step,
                       "epoch": 0, "batch": 0},
                      {"exp_avg/w": np.zeros((8, 4), np.float32)}, {"name": "adam", "step": 1})


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF  # same size, different bytes: only the checksum can tell
    path.write_bytes(bytes(data))


def drop_vocab(path: Path) -> None:
    data = json.loads(path.read_text())
    del data["vocab"]
    path.write_text(json.dumps(data))


DAMAGE = [
    ("model.safetensors", truncate, "model.safetensors has .* bytes, .* were written"),
    ("model.safetensors", flip_a_byte, "model.safetensors does not match its checksum"),
    ("optim.safetensors", flip_a_byte, "optim.safetensors does not match its checksum"),
    ("meta.json", lambda p: p.write_bytes(os.urandom(64)), "meta.json is not valid JSON"),
    ("meta.json", drop_vocab, "meta.json lacks 'vocab'"),
]


@pytest.mark.parametrize(("name", "damage", "message"), DAMAGE,
                         ids=["truncated", "flipped", "optim", "garbage-meta", "no-vocab"])
def test_each_kind_of_damage_is_named_and_skipped(tmp_path: Path, name, damage, message) -> None:
    keeper = CheckpointKeeper(tmp_path)
    for step in (10, 20, 30):
        keeper.save(tiny_ckpt(step), step)
    assert meta(keeper.root / "step-00000030")["files"]["model.safetensors"]["bytes"] > 0
    damage(keeper.root / "step-00000030" / name)
    with pytest.raises(CheckpointError, match=f"damaged checkpoint at .*30: {message}"):
        load_checkpoint(keeper.root / "step-00000030")
    said: list[str] = []
    assert keeper.intact(said.append) == keeper.root / "step-00000020"
    assert said[0].startswith("checkpoint step-00000030 is damaged (")
    assert "damaged checkpoint at" not in said[0]
    assert said[1].endswith("checkpoint, step-00000020")
    assert (keeper.root / "damaged-step-00000030").is_dir()  # kept, no longer listed
    assert [p.name for p in keeper.steps()] == ["step-00000010", "step-00000020"]


def test_no_intact_checkpoint_is_an_error_naming_each_damage(tmp_path: Path) -> None:
    keeper = CheckpointKeeper(tmp_path)
    keeper.save(tiny_ckpt(10), 10)
    truncate(keeper.root / "step-00000010" / "model.safetensors")
    with pytest.raises(CheckpointError, match=r"no intact checkpoint to resume from in .*: "
                       r"step-00000010: model.safetensors has .* bytes"):
        keeper.intact(lambda _: None)
    assert [p.name for p in keeper.steps()] == ["step-00000010"]  # left for inspection


def test_a_checkpoint_without_checksums_still_loads(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "old", tiny_ckpt(5))
    data = meta(path)
    del data["files"]  # as written before checksums (and the bundled starter model)
    (path / "meta.json").write_text(json.dumps(data))
    assert load_checkpoint(path).meta["step"] == 5


def test_resume_falls_back_to_the_newest_intact_checkpoint() -> None:
    killed = train("c", "train.steps=30", "train.eval_every=10", "train.checkpoint_every=5",
                   fault="step-saved@25:kill", check=False)
    assert killed.returncode == -9
    store = Store()
    ck = store.run_dir(store.get_run("c").id) / "checkpoints"
    truncate(ck / "step-00000025" / "model.safetensors")
    resumed = tangtui("resume", "c")
    assert "checkpoint step-00000025 is damaged" in resumed.stderr
    assert "resuming from the newest intact checkpoint, step-00000020" in resumed.stderr
    run = store.get_run("c")
    assert run.status == "finished" and run.step == 30
    assert [m.step for m in store.metrics(run.id)] == list(range(1, 31))
    assert (ck / "damaged-step-00000025").is_dir()


def test_all_checkpoints_damaged_refuses_resume_and_keeps_the_status() -> None:
    stopped = train("d", "train.steps=20", "train.eval_every=10", "train.checkpoint_every=5",
                    fault="eval@20:term")
    store = Store()
    before = store.get_run("d")
    assert before.status == "stopped"
    ck = store.run_dir(before.id) / "checkpoints"
    for step_dir in ck.glob("step-*"):
        (step_dir / "meta.json").write_text("{not json")
    refused = tangtui("resume", "d", check=False)
    assert refused.returncode == 2 and stopped.returncode == 0
    assert refused.stderr.startswith("tangtui: error: no intact checkpoint to resume from")
    after = store.get_run("d")
    assert (after.status, after.reason, after.step) == ("stopped", before.reason, before.step)


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 1 MiB tmpfs (root only): a real full disk."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                          capture_output=True)
    if done.returncode != 0:
        pytest.skip("mounting a tmpfs needs root")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_a_full_disk_under_the_checkpoints_fails_the_run_with_the_reason(small_disk) -> None:
    from engine.presets import build_config

    store = Store()
    cfg = build_config(None, None, None, [*TINY, "train.steps=60", "train.eval_every=0",
                                          "train.checkpoint_every=5"])
    run = store.create_run(cfg.to_dict(), name="full")
    (store.run_dir(run.id) / "checkpoints").symlink_to(small_disk)
    proc = subprocess.run([sys.executable, "-m", "tangtui.runs.runner", run.id],
                          capture_output=True, text=True, env=env(), timeout=120)
    assert proc.returncode == 1 and "internal error" not in proc.stderr + proc.stdout
    got = store.get_run("full")
    assert got.status == "failed"
    assert "cannot write a checkpoint under" in got.reason
    assert "no space left on device; kept the checkpoint of step" in got.reason
    kept = int(got.reason.rsplit(" ", 1)[1])
    assert kept >= 5 and meta(small_disk / f"step-{kept:08d}")["step"] == kept
    assert not [p for p in small_disk.iterdir() if p.name.startswith(".")]  # no temporaries


def test_the_corpus_cache_leaves_no_temporary_files(tmp_path: Path, monkeypatch) -> None:
    from engine.corpus import loader

    cache = tmp_path / "cache"
    code = ("from engine.corpus.loader import load_corpus; import sys; "
            "load_corpus('traditional', cache_dir=__import__('pathlib').Path(sys.argv[1]))")
    killed = subprocess.run([sys.executable, "-c", code, str(cache)], cwd=ROOT, timeout=120,
                            env=env("cache-write:kill"), capture_output=True)
    assert killed.returncode == -9
    partial = list(cache.glob("*.tmp*"))
    assert len(partial) == 1 and partial[0].stat().st_size > 0
    assert loader.clean_stale_temporaries(cache) == partial and not list(cache.glob("*.tmp*"))

    def no_space(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device")

    target = cache / "corpus-v2-traditional-x.txt"
    monkeypatch.setenv("TANGTUI_FAULT", "cache-write:enospc")  # the disk fills mid-write
    loader._write_cache_now(target, [["1", "t", "a", "l", "k", "f"]], {}, {})
    monkeypatch.delenv("TANGTUI_FAULT")
    assert not target.exists() and not list(cache.glob("*.tmp*"))
    monkeypatch.setattr(loader.json, "dumps", no_space)
    loader._write_cache_now(target, [], {}, {})
    assert not list(cache.glob("*.tmp*"))
