"""A tiny run with a random-weight checkpoint in a real store, for end-to-end app tests."""

from __future__ import annotations

from pathlib import Path

CHARS = list("月明风花山水春秋夜云天人长雪江南白日青")
PUNCT = list("，。")


def make_tiny_run(home: Path, name: str = "tiny-poet") -> str:
    """Create a finished run in the store at ``home`` with a 16-unit NumPy checkpoint."""
    from engine.base import create_engine
    from engine.checkpoint import Checkpoint, save_checkpoint
    from engine.config import RunConfig
    from tangtui.runs.store import Store

    itos = ["<pad>", "<bos>", "<eos>", "<unk>", *PUNCT, *CHARS]
    cfg = RunConfig()
    cfg.engine = "numpy"
    cfg.model.embed_dim = cfg.model.hidden_dim = 16
    eng = create_engine(cfg, len(itos))
    with Store(home) as store:
        run = store.create_run(cfg.to_dict(), name=name, engine="numpy")
        meta = {"engine": "numpy", "config": cfg.to_dict(), "vocab": itos,
                "script": "simplified", "step": 1, "epoch": 0, "batch": 0}
        save_checkpoint(store.run_dir(run.id) / "checkpoints" / "best",
                        Checkpoint(eng.state_dict(), meta))
        store.update_run(run.id, status="finished", step=1, checkpoint_step=1)
    return run.id
