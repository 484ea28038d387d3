"""Export a finished run's best checkpoint as the bundled starter model (``data/starter/``).

Weights are stored as int8 with one float32 scale per row (:mod:`engine.quantize`; vectors as
float16), the optimizer state is left out, and ``meta.json`` records where the model came from
and the held-out perplexity *of the stored weights* (dequantised, NumPy engine, no torch):
``heldout.ppl`` each poem alone from a zero state (the headline), ``heldout.stream_ppl`` over the
poems joined. The Compose pane and ``tangtui generate`` show ``heldout.ppl`` beside the model.

The bundled model was made on this project's 2-core development machine (no GPU; the machine was
shared with other work, so wall times are not benchmarks)::

    tangtui train --engine torch --name starter --set model.embed_dim=256 \\
        model.hidden_dim=512 model.layers=1 model.dropout=0.1 model.forget_bias=1.0 \\
        model.softmax=adaptive optim.name=adam optim.lr=3e-3 optim.clip=1.0 \\
        train.mode=stream train.batch_size=32 train.seq_len=64 train.steps=9000 \\
        train.schedule=cosine train.warmup=200 train.min_lr=1e-4 train.eval_every=1000 \\
        train.eval_batches=0 train.sample_every=1000 train.checkpoint_every=500 \\
        train.device=cpu
    python data/build_starter.py starter     # run id, name, or a checkpoint directory

(The run was started with 12,000 and then 6,000 planned steps and set to 9,000 before step
2,300, while the learning rate was still near its peak; ``train.steps=9000`` reproduces it.)
Figures of the bundled model: see ``STARTER`` in README.md and ``meta.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from engine.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from engine.quantize import dequantize, quantize

OUT = Path(__file__).with_name("starter")


def heldout(tensors: dict[str, np.ndarray], meta: dict[str, Any]) -> dict[str, Any]:
    """Per-poem and stream held-out perplexity of ``tensors`` with the NumPy engine."""
    from engine.base import create_engine
    from engine.config import RunConfig
    from engine.corpus.dataset import build_dataset
    from engine.corpus.vocab import Vocab
    from engine.evaluation import POEMS, STREAM, evaluate_heldout

    config = RunConfig.from_dict(meta["config"])
    config.engine, config.train.device, config.train.precision = "numpy", "cpu", "fp32"
    data = build_dataset(config, vocab=Vocab(list(meta["vocab"])))
    engine = create_engine(config, len(data.vocab), weights=tensors)
    engine.bind(STREAM, data.test)
    engine.bind(POEMS, data.test_poems)
    t0 = time.perf_counter()
    ev = evaluate_heldout(engine)
    assert ev is not None
    return {"ppl": round(ev.ppl, 2), "loss": round(ev.loss, 5), "tokens": ev.tokens,
            "stream_ppl": round(ev.stream_ppl or 0.0, 2), "poems": data.info["test_poems"],
            "seconds": round(time.perf_counter() - t0, 1),
            "measured": "the stored int8 weights, dequantised, NumPy engine, fp32"}


def export(ref: str, out: Path = OUT) -> dict[str, Any]:
    from tangtui.runs.checkpoints import find_checkpoint

    path, label = find_checkpoint(ref)
    ckpt = load_checkpoint(path, optimizer=False)
    stored = quantize(ckpt.tensors)
    meta = {k: v for k, v in ckpt.meta.items() if k not in ("rng", "best_test_ppl")}
    meta["heldout"] = heldout(dequantize(stored), meta)
    meta["starter"] = {"source": label, "step": ckpt.meta.get("step"),
                       "trained_best_ppl": ckpt.meta.get("best_test_ppl"),
                       "dtype": "int8 with per-row float32 scales (engine.quantize)"}
    save_checkpoint(out, Checkpoint(stored, meta))
    size = (out / "model.safetensors").stat().st_size
    return {"out": str(out), "source": label, "bytes": size, **meta["heldout"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", help="run id or name, or a checkpoint directory")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    print(json.dumps(export(args.run, args.out), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
