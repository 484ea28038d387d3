"""Runs on 2 gloo processes through the real runner: only rank 0 writes, stop and resume across
N = 2 and N = 1 land on the weights of an uninterrupted run, bad input is refused up front."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import numpy as np
import pytest
from dist_harness import run_ranks
from test_runs_cli import tangtui, wait_for

pytest.importorskip("torch")

from engine.checkpoint import load_checkpoint  # noqa: E402
from engine.presets import build_config  # noqa: E402
from tangtui.runs.runner import execute  # noqa: E402
from tangtui.runs.store import Store  # noqa: E402

SET = ["optim.name=adam", "optim.lr=0.01", "train.precision=fp64", "train.device=cpu",
       "train.steps=12", "train.eval_every=4", "train.sample_every=4", "train.checkpoint_every=0",
       "train.log_every=2", "corpus.max_poems=120", "train.early_eval=false"]


class StopAt:
    """A hook that sends this process SIGTERM after update ``step`` (what `tangtui stop` does)."""

    def __init__(self, step: int) -> None:
        self.step = step

    def __getattr__(self, name: str):
        return lambda *a: None

    def on_step(self, p) -> None:
        if p.step == self.step:
            os.kill(os.getpid(), signal.SIGTERM)


def rank_main(rank: int, homes: list[Path], run_id: str, resume: bool, stop_at: int) -> None:
    """One rank of the runner; each rank sees its own TANGTUI_HOME (rank 1's stays empty)."""
    from tangtui.runs.runner import run_rank

    os.environ["TANGTUI_HOME"] = str(homes[rank])
    result = run_rank(run_id if rank == 0 else None, resume, log=False,
                      hooks=(StopAt(stop_at),) if rank == 0 else ())
    assert result.status == ("stopped" if stop_at else "finished"), result


def one_process(store: Store, run_id: str, resume: bool, stop_at: int = 0) -> str:
    return execute(run_id, resume=resume, store=store, log=False,
                   hooks=[StopAt(stop_at)] if stop_at else []).status


def final_weights(store: Store, run_id: str) -> dict[str, np.ndarray]:
    return load_checkpoint(store.run_dir(run_id) / "checkpoints" / "step-00000012").tensors


def files_under(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.is_file()] if path.exists() else []


@pytest.mark.slow
def test_stop_and_resume_across_two_and_one_process(tmp_path: Path, tangtui_home: Path) -> None:
    store = Store()
    cfg = build_config("tiny", None, "torch", SET).to_dict()
    whole = store.create_run(cfg, name="whole")
    assert one_process(store, whole.id, False) == "finished"  # also warms torch up for the fork
    split = store.create_run(cfg, name="split")
    homes = [tangtui_home, tmp_path / "rank1-home"]
    run_ranks(rank_main, 2, (homes, split.id, False, 5), timeout=120,
              join=False)  # N = 2, stopped at 5
    run = store.get_run(split.id)
    assert (run.status, run.checkpoint_step) == ("stopped", 5)
    assert one_process(store, split.id, True, stop_at=9) == "stopped"  # N = 1 from 5 to 9
    run_ranks(rank_main, 2, (homes, split.id, True, 0), timeout=120,
              join=False)  # N = 2 from 9 to 12
    assert store.get_run(split.id).status == "finished"
    assert files_under(homes[1]) == []  # rank 1 never touched a store or a checkpoint
    assert [m.step for m in store.metrics(split.id)] == [2, 4, 6, 8, 10, 12]
    assert [e.step for e in store.evals(split.id)] == [4, 8, 12]
    a, b = final_weights(store, whole.id), final_weights(store, split.id)
    for name in a:
        np.testing.assert_allclose(b[name], a[name], rtol=1e-9, atol=1e-12, err_msg=name)
    np.testing.assert_allclose([e.test_loss for e in store.evals(split.id)],
                               [e.test_loss for e in store.evals(whole.id)], rtol=1e-9)


@pytest.mark.parametrize("args, message", [
    (["--nproc", "0"], "train.nproc: must be an integer from 1 to"),
    (["--nproc", "-2"], "train.nproc: must be an integer from 1 to"),
    (["--engine", "numpy", "--nproc", "2"], "the numpy engine trains in one process"),
    (["--nproc", "9"], "9 processes but the batch has 8 rows"),
    (["--nproc", "2", "--set", "train.backend=nccl", "train.device=cpu"], "nccl needs CUDA"),
])
def test_bad_process_counts_are_refused_before_a_run_exists(args: list[str], message: str,
                                                            tangtui_home: Path) -> None:
    proc = tangtui("train", "--preset", "tiny", "--engine", "torch", *args, check=False)
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tangtui: error: ") and message in lines[0]
    assert Store().list_runs() == []


@pytest.mark.slow  # asks a second Python (with torch) whether CUDA exists
def test_nccl_without_cuda_is_refused_before_a_run_exists(tangtui_home: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    proc = tangtui("train", "--preset", "tiny", "--engine", "torch", "--nproc", "2", "--set",
                   "train.backend=nccl", check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("tangtui: error: train.backend=nccl needs CUDA, which this "
                                   "machine lacks; train on the CPU with train.device=cpu (gloo)")
    assert Store().list_runs() == []


def test_more_processes_than_cores_is_allowed_with_a_warning(monkeypatch) -> None:
    from tangtui.runs import dist_launch

    monkeypatch.setattr(dist_launch, "usable_cores", lambda: 2)
    cfg = build_config("tiny", None, "torch", ["train.nproc=3", "train.device=cpu"])
    (warning,) = dist_launch.check_processes(cfg)
    assert "3 processes on 2 core(s)" in warning
    assert dist_launch.check_processes(build_config("tiny", None, "torch",
                                                    ["train.nproc=2"])) == []


def family(pid: int) -> list[int]:
    """``pid`` and its descendants still alive (torchrun puts each worker in its own session)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            parents[int(stat.parent.name)] = int(fields[1])
    out = [pid] if pid in parents else []
    for p in out:
        out += [c for c, parent in parents.items() if parent == p]
    return out


@pytest.mark.slow
def test_killing_one_rank_fails_the_run_leaves_no_process_and_it_resumes(
        tangtui_home: Path) -> None:
    proc = tangtui("train", "--preset", "tiny", "--engine", "torch", "--nproc", "2", "--detach",
                   "--name", "pair", "--set", "train.steps=100000", "train.log_every=1",
                   "train.device=cpu", "corpus.max_poems=80")
    run_id = proc.stdout.strip()
    store = Store()
    rank0 = store.get_run(run_id).pid
    launcher = int(Path(f"/proc/{rank0}/stat").read_text().rsplit(")", 1)[1].split()[1])
    try:
        wait_for(lambda: store.get_run(run_id).step >= 3, timeout=300, what="three steps")
        rank1 = [p for p in family(launcher) if p not in (launcher, rank0)]
        assert len(rank1) == 1
        os.kill(rank1[0], signal.SIGKILL)
        wait_for(lambda: not family(launcher), timeout=120, what="every process to end")
    finally:
        for pid in reversed(family(launcher)):
            os.kill(pid, signal.SIGKILL)
    run = store.get_run(run_id)
    assert run.status == "failed" and "another training process died" in run.reason
    step = run.checkpoint_step or 0  # killed before its first checkpoint: from the start
    store.update_run(run_id, config={**run.config, "train": {**run.config["train"],
                                                             "steps": step + 5}})
    done = tangtui("resume", "pair", "--nproc", "1")
    assert done.stdout.startswith(f"run pair finished at step {step + 5}")


def test_the_launch_command_uses_torchrun_for_several_processes() -> None:
    from tangtui.runs.dist_launch import processes_text, trainer_command

    assert trainer_command("r1", False, 1) == [sys.executable, "-m", "tangtui.runs.runner", "r1"]
    cmd = trainer_command("r1", True, 2)
    assert cmd[1:4] == ["-m", "torch.distributed.run", "--standalone"]
    assert "--nproc-per-node=2" in cmd and cmd[-4:] == ["-m", "tangtui.runs.runner", "r1",
                                                         "--resume"]
    assert processes_text({"train": {"nproc": 2, "batch_size": 8}}) == \
        "2 processes × 4 rows = batch 8"
