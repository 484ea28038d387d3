"""Export a finished run's best checkpoint as the bundled starter model (``data/starter/``).

Usage::

    tangtui train --preset cpu --name starter          # about ten minutes on 2 CPU cores
    python data/build_starter.py starter               # run id, name, or a checkpoint directory

Weights are stored as float16 safetensors (loaders upcast to float32), the optimizer state is
left out, and ``meta.json`` records where the model came from and its held-out perplexity.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from engine.checkpoint import Checkpoint, load_checkpoint, save_checkpoint

OUT = Path(__file__).with_name("starter")


def export(ref: str, out: Path = OUT) -> dict:
    from tangtui.runs.checkpoints import find_checkpoint
    from tangtui.runs.store import Store

    path, label = find_checkpoint(ref)
    ckpt = load_checkpoint(path, optimizer=False)
    tensors = {k: v.astype(np.float16) for k, v in ckpt.tensors.items()}
    for k, v in tensors.items():
        if not np.isfinite(v).all():
            raise SystemExit(f"{k} overflows float16; refusing to export")
    meta = dict(ckpt.meta)
    run = Store().get_run(ref) if not Path(ref).exists() else None
    meta["starter"] = {
        "source": label,
        "run_name": run.name if run else None,
        "test_ppl": meta.get("best_test_ppl") or meta.get("test_ppl"),
        "dtype": "float16",
    }
    meta.pop("rng", None)
    save_checkpoint(out, Checkpoint(tensors, meta))
    size = (out / "model.safetensors").stat().st_size
    return {"out": str(out), "source": label, "bytes": size,
            "test_ppl": meta["starter"]["test_ppl"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", help="run id or name, or a checkpoint directory")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    print(json.dumps(export(args.run, args.out), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
