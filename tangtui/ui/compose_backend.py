"""The one place that knows the generation API (engine.generate): a :class:`PoemGenerator`.

Always the NumPy engine, so the UI process never imports torch (a torch checkpoint has the same
format). Loaded poets are cached per checkpoint; everything here runs in a worker thread.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from tangtui.errors import TangtuiError
from tangtui.paths import data_home
from tangtui.ui.backends import STARTER, ComposedPoem, ComposeRequest

CANDIDATES = 8  # top candidates kept per position


def run_checkpoint(root: Path, run_id: str) -> Path:
    """The best checkpoint of run ``run_id`` in the store at ``root``, else its newest one."""
    from tangtui.runs.checkpoints import run_checkpoint as find
    from tangtui.runs.rows import check_run_id

    path = find(root / "runs" / check_run_id(run_id))
    if path is None:
        raise TangtuiError(f"run {run_id} has no checkpoint yet: wait for its first one")
    return path


class EnginePoet:
    """Generates with ``engine.generate`` and the NumPy engine."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else None
        self._poets: dict[tuple[str, float], Any] = {}
        self._lock = threading.Lock()

    def _poet(self, model: str) -> Any:
        from engine.generate import load_poet, starter_dir
        from tangtui.runs.checkpoints import load_retrying

        def locate() -> Path:
            return starter_dir() if model == STARTER else run_checkpoint(
                self.root or data_home(), model)

        def load(path: Path) -> Any:  # a live run's `best` may be replaced meanwhile: retried
            key = (str(path.resolve()), (path / "model.safetensors").stat().st_mtime)
            with self._lock:
                if key not in self._poets:
                    self._poets = {key: load_poet(path, engine="numpy")}  # one model at a time
                return self._poets[key]

        return load_retrying(locate, load)

    def generate(self, request: ComposeRequest) -> list[ComposedPoem]:
        from engine.decode import Sampling
        from engine.generate import PoemRequest

        poet = self._poet(request.model)
        sampling = Sampling(temperature=request.temperature, top_k=request.top_k,
                            top_p=request.top_p)
        req = PoemRequest(form=request.form, start=request.start, prefix=request.prefix,
                          acrostic=request.acrostic, rhyme=request.rhyme, sampling=sampling,
                          metre=request.metre)
        poems = poet.generate(req, n=request.n, seed=request.seed, candidates=CANDIDATES,
                              best_of=request.best_of)
        out = []
        for p in poems:
            cands = [[(t["char"], float(t["prob"])) for t in c.get("top", [])]
                     for c in (p.candidates or [])]
            chosen = [(float(c.get("prob", 0.0)), int(c.get("rank", 0)))
                      for c in (p.candidates or [])]
            out.append(ComposedPoem(p.text, list(p.lines), cands, chosen, seed=p.seed,
                                    score=p.score, best_of=p.best_of))
        return out
