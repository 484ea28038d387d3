"""One check of a launch for the Train form, ``train --dry-run`` and the launch: device, name,
memory; and a launch that fails leaves no run holding its name (real store, CLI in-process)."""

from __future__ import annotations

import pytest

from engine.config import RunConfig, set_field
from tangtui.cli import main
from tangtui.errors import TangtuiError
from tangtui.runs import launch_check, runner
from tangtui.runs.launch_check import Machine, launch_problems, memory_estimate, param_count
from tangtui.runs.store import Store

NO_CUDA = Machine(torch=True, cuda=0, mps=False, ram_free=64 * 10**9)
NO_TORCH = Machine(torch=False, cuda=0, mps=False, ram_free=64 * 10**9)
ONE_GPU = Machine(torch=True, cuda=1, mps=False, ram_free=64 * 10**9, vram_free=(2 * 10**9,))


def config(**fields: str) -> RunConfig:
    cfg = RunConfig()
    for key, value in fields.items():
        set_field(cfg, key.replace("__", "."), value)
    return cfg


def test_devices_this_machine_lacks_are_refused() -> None:
    torch_cuda = config(engine="torch", train__device="cuda")
    assert "sees none" in launch_problems(torch_cuda, machine=NO_CUDA)["train.device"]
    assert "PyTorch" in launch_problems(torch_cuda, machine=NO_TORCH)["engine"]
    assert "cuda:0 to cuda:0" in launch_problems(config(engine="torch", train__device="cuda:1"),
                                                  machine=ONE_GPU)["train.device"]
    assert "Apple" in launch_problems(config(engine="torch", train__device="mps"),
                                      machine=NO_CUDA)["train.device"]
    for fine in (config(engine="torch", train__device="auto"), config(engine="numpy")):
        assert launch_problems(fine, machine=NO_CUDA) == {}
    assert launch_problems(config(engine="numpy"), machine=NO_TORCH) == {}


def test_memory_counts_weights_optimizer_and_one_batch() -> None:
    cfg = config(model__embed_dim="32", model__hidden_dim="64", model__layers="2",
                 train__batch_size="8", train__seq_len="16", optim__name="adam")
    p = param_count(cfg)
    est = memory_estimate(cfg)
    assert (est.weights, est.optimizer) == (2 * p * 4, 2 * p * 4)
    assert est.activations == 8 * 16 * (32 + 7 * 64 * 2 + 2 * 7000) * 4
    set_field(cfg, "optim.name", "sgd")
    set_field(cfg, "optim.momentum", "0")
    assert memory_estimate(cfg).optimizer == 0


def test_a_run_too_big_for_free_memory_says_how_big_in_words() -> None:
    big = config(train__batch_size="4096", train__seq_len="512")
    small = Machine(torch=True, cuda=0, mps=False, ram_free=10**9)
    message = launch_problems(big, machine=small)["train.batch_size"]
    assert message.startswith("needs about ") and "4,096×512" in message
    assert "1.0 GB of RAM free" in message and "_" not in message
    gpu = config(engine="torch", train__device="cuda", train__batch_size="4096",
                 train__seq_len="512")
    assert "free on cuda:0" in launch_problems(gpu, machine=ONE_GPU)["train.batch_size"]
    assert launch_problems(config(model__hidden_dim="64", train__batch_size="16"),
                           machine=small) == {}


def test_dry_run_refuses_what_the_machine_lacks_before_any_run_exists(
        monkeypatch, capsys) -> None:
    monkeypatch.setattr(launch_check, "probe", lambda: NO_CUDA)
    code = main(["train", "--engine", "torch", "--set", "train.device=cuda", "--dry-run",
                 "--name", "gpu"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("tangtui: error: train.device: cuda needs a CUDA GPU")
    monkeypatch.setattr(launch_check, "probe", lambda: NO_TORCH)
    assert main(["train", "--engine", "torch", "--set", "train.device=cuda"]) == 2
    assert "needs PyTorch" in capsys.readouterr().err
    assert Store().list_runs() == []  # refused before any run was made


def test_dry_run_checks_the_name_and_memory(monkeypatch, capsys) -> None:
    monkeypatch.setattr(launch_check, "probe", lambda: NO_CUDA)
    Store().create_run(RunConfig().to_dict(), name="taken")
    assert main(["train", "--preset", "tiny", "--dry-run", "--name", "taken"]) == 2
    assert "a run named taken exists" in capsys.readouterr().err
    assert main(["train", "--set", "train.batch_size=65536", "train.seq_len=100000",
                 "--dry-run"]) == 2
    assert "GB of RAM free" in capsys.readouterr().err
    assert main(["train", "--preset", "tiny", "--dry-run", "--name", "fresh"]) == 0


@pytest.mark.parametrize("detach", [False, True])
def test_a_launch_that_fails_leaves_no_run_holding_the_name(monkeypatch, capsys,
                                                            detach) -> None:
    monkeypatch.setattr(launch_check, "probe", lambda: NO_CUDA)

    def broken_build(*args, **kwargs):
        raise TangtuiError("the corpus filter leaves 0 poems")

    def dead_trainer(store, run_id, **kwargs):
        raise TangtuiError(f"the trainer of run {run_id} exited at once: boom")

    monkeypatch.setattr(runner, "_build", broken_build)  # foreground: fails after "running"
    monkeypatch.setattr(runner, "spawn", dead_trainer)  # detached: the trainer dies at once
    args = ["train", "--preset", "tiny", "--name", "first", *(["--detach"] if detach else [])]
    for _ in range(2):  # the second launch gets the same error, not "name taken"
        assert main(args) == 2
        err = capsys.readouterr().err
        assert "run first removed" in err and "name" not in err.splitlines()[-1]
        assert Store().list_runs() == []


def test_a_run_that_failed_before_its_first_step_gives_its_name_back(monkeypatch) -> None:
    monkeypatch.setattr(launch_check, "probe", lambda: NO_CUDA)
    store = Store()
    old = store.create_run(RunConfig().to_dict(), name="again")
    store.update_run(old.id, status="failed", reason="boom")
    assert main(["train", "--preset", "tiny", "--dry-run", "--name", "again"]) == 0
    store.update_run(old.id, step=5)  # it trained: its name stays taken
    assert main(["train", "--preset", "tiny", "--dry-run", "--name", "again"]) == 2
