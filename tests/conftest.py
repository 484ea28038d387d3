"""Shared test setup.

Every test gets its own empty store (TANGTUI_HOME in a temp dir); the converted corpus cache is
shared by the whole session (TANGTUI_CACHE), so the corpus is cleaned and converted once.
Math libraries use one thread: the models in tests are tiny, and two threads only contend.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Tiny test models run far faster on one thread (and subprocesses inherit this); it must be set
# before torch or numpy start their thread pools.
os.environ.setdefault("OMP_NUM_THREADS", "1")

_CACHE = Path(tempfile.gettempdir()) / f"tangtui-test-cache-{os.getuid()}"
os.environ["TANGTUI_CACHE"] = str(_CACHE)


@pytest.fixture(autouse=True)
def tangtui_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("TANGTUI_HOME", str(home))
    monkeypatch.setenv("TANGTUI_CACHE", str(_CACHE))
    return home


@pytest.fixture(scope="session")
def corpus():
    """The full simplified corpus, loaded once per session."""
    from engine.corpus import load_corpus

    return load_corpus("simplified", cache_dir=_CACHE)


@pytest.fixture(scope="session")
def corpus_trad():
    from engine.corpus import load_corpus

    return load_corpus("traditional", cache_dir=_CACHE)
