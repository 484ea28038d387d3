"""Helpers of the reliability tests: real `tangtui` processes with a fault injected
(``TANGTUI_FAULT``, see engine/faults.py), tiny models on a few poems."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TINY = ["corpus.forms=wujue", "corpus.max_poems=80", "model.embed_dim=16", "model.hidden_dim=16",
        "train.batch_size=8", "train.seq_len=32", "train.log_every=1", "train.sample_every=10",
        "train.early_eval=false"]  # evaluations only where each test puts them


def env(fault: str | None = None, **extra: str) -> dict[str, str]:
    out = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", **extra)
    out.pop("TANGTUI_FAULT", None)
    if fault:
        out["TANGTUI_FAULT"] = fault
    return out


def tangtui(*args: str, fault: str | None = None, check: bool = True, timeout: float = 120,
            **extra: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "tangtui", *args], capture_output=True,
                          text=True, env=env(fault, **extra), timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"tangtui {' '.join(args)} -> {proc.returncode}\n{proc.stderr}")
    return proc


def train(name: str, *sets: str, fault: str | None = None, check: bool = True,
          **extra: str) -> subprocess.CompletedProcess:
    """A foreground `tangtui train` of a tiny run named ``name``."""
    return tangtui("train", "--name", name, "--set", *TINY, *sets, fault=fault, check=check,
                   **extra)


def start_detached(name: str, *sets: str, **extra: str) -> dict:
    out = tangtui("train", "--detach", "--json", "--name", name, "--set", *TINY, *sets,
                  **extra).stdout
    return json.loads(out)


def wait_for(predicate, timeout: float = 90.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def meta(path: Path) -> dict:
    return json.loads((path / "meta.json").read_text(encoding="utf-8"))
