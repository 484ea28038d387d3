"""Seeded fakes for the app tests: a store, a corpus, a poet and a runner (no clocks, no I/O)."""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path
from typing import Any

from engine.corpus.model import Corpus, Poem
from tangtui.runs.rows import EvalRow, MetricRow, Run, Sample, SavedPoem, StoreError
from tangtui.runs.series import Curve, reduce_points
from tangtui.ui.backends import ComposedPoem, ComposeRequest

POEMS = [
    ("p-jingyesi-0001", "静夜思", "李白", ["床前明月光，疑是地上霜。", "举头望明月，低头思故乡。"]),
    ("p-chunxiao-0002", "春晓", "孟浩然", ["春眠不觉晓，处处闻啼鸟。", "夜来风雨声，花落知多少。"]),
    ("p-denggao-0003", "登鹳雀楼", "王之涣",
     ["白日依山尽，黄河入海流。", "欲穷千里目，更上一层楼。"]),
    ("p-wanglu-0004", "望庐山瀑布", "李白",
     ["日照香炉生紫烟，遥看瀑布挂前川。", "飞流直下三千尺，疑是银河落九天。"]),
    ("p-xiangsi-0005", "相思", "王维", ["红豆生南国，春来发几枝。", "愿君多采撷，此物最相思。"]),
    ("p-chunwang-0006", "春望", "杜甫", ["国破山河在，城春草木深。", "感时花溅泪，恨别鸟惊心。",
                                    "烽火连三月，家书抵万金。", "白头搔更短，浑欲不胜簪。"]),
]
AUTHORS = {"李白": "李白，字太白，号青莲居士。", "杜甫": "杜甫，字子美。", "王维": "王维，字摩诘。"}
FORMS = {2: {5: "wujue", 7: "qijue"}, 4: {5: "wulv", 7: "qilv"}}


def fake_corpus(script: str = "simplified") -> Corpus:
    poems = []
    for pid, title, author, lines in POEMS:
        n = len(lines[0].split("，")[0])
        poems.append(Poem(pid, title, author, "\n".join(lines),
                          FORMS.get(len(lines), {}).get(n, "other")))
    return Corpus(poems, dict(AUTHORS), script, {})


def _run(rid: str, name: str, status: str, step: int, best: float | None,
         **kw: Any) -> Run:
    base: dict[str, Any] = dict(
        id=rid, name=name, engine="numpy", status=status, reason=None, pid=None, host=None,
        heartbeat=None, created=f"2025-01-0{len(name) % 9 + 1}T10:00:00+00:00", started=None,
        ended=None, config={}, step=step, epoch=1, total_steps=400, tokens_per_s=2048.0,
        eta_s=None, device="cpu", best_test_ppl=best, best_step=step if best else None,
        checkpoint_step=step if step else None, attempt=0)
    base.update(kw)
    return Run(**base)


def _curve(step: int) -> float:
    return 3.0 + 5.0 * math.exp(-step / 80.0)


class FakeStore:
    """In-memory store with two finished runs and one running one; thread-safe."""

    def __init__(self, root: Path | None = None, empty: bool = False) -> None:
        self.root = root or Path("/nonexistent-tangtui")
        self.lock = threading.Lock()
        self.runs: list[Run] = []
        self.rows: dict[str, list[MetricRow]] = {}
        self.eval_rows: dict[str, list[EvalRow]] = {}
        self.samples: dict[str, list[Sample]] = {}
        self.poems: list[SavedPoem] = []
        self.deleted: list[str] = []
        if not empty:
            self.add_run(_run("20250101-100000-aaaa", "baseline", "finished", 400, 21.5), 400)
            self.add_run(_run("20250102-100000-bbbb", "adam-lr3", "stopped", 200, 30.2,
                              reason="stopped by the user"), 200)
            self.add_run(_run("20250103-100000-cccc", "live", "running", 100, 45.0,
                              heartbeat=time.time() + 3600, eta_s=150.0), 100)

    def add_run(self, run: Run, steps: int) -> None:
        self.runs.insert(0, run)
        self.rows[run.id] = [MetricRow(s, s // 100, _curve(s), 1e-3, 2048.0, 1000.0 + s / 2)
                             for s in range(10, steps + 1, 10)]
        self.eval_rows[run.id] = [EvalRow(s, s // 100, _curve(s) + 0.2,
                                          math.exp(_curve(s) + 0.2), 1000, 1000.0 + s / 2)
                                  for s in range(50, steps + 1, 50)]
        self.samples[run.id] = [Sample(steps, "月", "月明松下房栊静，"),
                                Sample(steps, "春", "春风吹尽满城花。")]

    def append(self, run_id: str, step: int) -> None:
        """Simulate the trainer logging one more row (and moving the run's step)."""
        with self.lock:
            self.rows[run_id].append(MetricRow(step, 1, _curve(step), 1e-3, 2048.0,
                                               1000.0 + step / 2))
            run = self.get_run(run_id)
            run.step = step

    def append_eval(self, run_id: str, step: int) -> None:
        """Simulate an evaluation at ``step`` finishing (after its train row was logged)."""
        loss = _curve(step) + 0.2
        with self.lock:
            self.eval_rows[run_id].append(EvalRow(step, 1, loss, math.exp(loss), 1000,
                                                  1000.0 + step / 2))

    def list_runs(self) -> list[Run]:
        with self.lock:
            return list(self.runs)

    def get_run(self, ref: str) -> Run:
        for r in self.runs:
            if ref in (r.id, r.name):
                return r
        raise StoreError(f"no run {ref!r}")

    def metrics(self, run_id: str, since: int = -1) -> list[MetricRow]:
        with self.lock:
            return [m for m in self.rows.get(run_id, []) if m.step > since]

    def evals(self, run_id: str, since: int = -1) -> list[EvalRow]:
        with self.lock:
            return [e for e in self.eval_rows.get(run_id, []) if e.step > since]

    def latest_samples(self, run_id: str) -> list[Sample]:
        return list(self.samples.get(run_id, []))

    def series(self, run_id: str, column: str = "train_loss", x: str = "step",
               lo: float | None = None, hi: float | None = None, n: int = 400) -> Curve:
        """The store's reduction, done in Python over the fake rows."""
        with self.lock:
            rows = (self.rows.get(run_id, []) if column == "train_loss"
                    else self.eval_rows.get(run_id, []))
            xs = [float(getattr(r, x)) for r in rows]
            ys = [getattr(r, column) for r in rows]
        return reduce_points(xs, ys, lo, hi, n)

    def delete_run(self, run_id: str) -> None:
        with self.lock:
            self.runs = [r for r in self.runs if r.id != run_id]
            self.deleted.append(run_id)

    def save_poem(self, text: str, run_id: str | None = None,
                  settings: dict[str, Any] | None = None) -> SavedPoem:
        poem = SavedPoem(max((p.id for p in self.poems), default=0) + 1, run_id, text,
                         settings or {},
                         "2025-01-01T00:00:00+00:00")
        self.poems.append(poem)
        return poem

    def list_poems(self, run_id: str | None = None) -> list[SavedPoem]:
        return [p for p in reversed(self.poems) if run_id is None or p.run_id == run_id]

    def delete_poem(self, poem_id: int) -> bool:
        kept = [p for p in self.poems if p.id != poem_id]
        found, self.poems = len(kept) < len(self.poems), kept
        return found


class FakePoet:
    """Deterministic 五绝 built from the start words; candidates are a fixed distribution."""

    LINES = ["明月照高楼", "清风入我怀", "孤云随雁去", "长夜待春来"]
    LINES7 = ["日照香炉生紫烟", "遥看瀑布挂前川", "飞流直下三千尺", "疑是银河落九天",
              "国破山河城春在", "感时花溅泪恨别", "烽火连三月家书", "白头搔更短浑欲"]

    def __init__(self) -> None:
        self.requests: list[ComposeRequest] = []

    def generate(self, request: ComposeRequest) -> list[ComposedPoem]:
        """五绝 unless a 七言 form is asked for (七绝: 4 lines, 七律: 8)."""
        self.requests.append(request)
        n = 7 if request.form in ("qijue", "qilv") else 5
        lines = list(self.LINES7 if n == 7 else self.LINES)
        lines = lines[:8 if request.form in ("wulv", "qilv") else 4]
        if n == 5 and len(lines) < 8 and request.form == "wulv":
            lines = lines * 2
        if request.start:
            lines[0] = (request.start + lines[0])[:n]
        if request.acrostic:
            lines = [(h + ln[1:]) for h, ln in zip(request.acrostic, lines, strict=False)]
        text_lines = [ln + ("，" if i % 2 == 0 else "。") for i, ln in enumerate(lines)]
        text = "".join(text_lines)
        cands = [[(ch, 0.6), ("风", 0.25), ("山", 0.1)] for ch in text]
        chosen = [(0.6, 1)] * len(text)
        return [ComposedPoem(text, text_lines, cands, chosen, seed=request.seed or 7,
                             score=-3.25, best_of=request.best_of)]


class FakeRunner:
    """Records start/stop/resume; a started run appears in the store as running."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.calls: list[tuple[str, Any]] = []

    def start(self, config: dict[str, Any], name: str | None = None) -> str:
        self.calls.append(("start", config))
        rid = f"20250109-100000-{len(self.calls):04x}"
        self.store.add_run(_run(rid, name or rid, "running", 0, None,
                                heartbeat=time.time() + 3600), 0)
        return rid

    def stop(self, run_id: str) -> None:
        self.calls.append(("stop", run_id))
        self.store.get_run(run_id).status = "stopped"

    def resume(self, run_id: str) -> None:
        self.calls.append(("resume", run_id))
        self.store.get_run(run_id).status = "running"
