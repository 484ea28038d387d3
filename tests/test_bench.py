"""``tangtui bench`` as a smoke test: tiny sizes, every loop, the JSON report's keys."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tangtui.cli import main

TINY = ["--embed", "8", "--hidden", "8", "--vocab", "30", "--batch", "4", "--seq-len", "5",
        "--steps", "4", "--warmup", "1", "--rounds", "2"]


def _check_report(report: dict, engines: list[str]) -> None:
    assert [r["engine"] for r in report["results"]] == engines
    for r in report["results"]:
        assert r["tokens_per_s"] > 0 and r["steps"] == 4
        assert len(r["rounds_tokens_per_s"]) == 2
        assert r["final_loss"] > 0
    first, second = (r["tokens_per_s"] for r in report["results"])
    assert report["ratio"] == pytest.approx(first / second)
    assert report["device"] == "cpu"
    assert report["config"]["embed"] == 8 and report["config"]["tokens_per_step"] == 20
    machine = report["machine"]
    assert machine["cpu_count"] >= 1 and "torch" in machine


def test_bench_torch_against_the_bare_loop_in_a_subprocess():
    out = subprocess.run(
        [sys.executable, "-m", "tangtui", "bench", "--engine", "torch", "--device", "cpu",
         *TINY, "--json"], capture_output=True, text=True, check=True, timeout=120)
    report = json.loads(out.stdout)
    _check_report(report, ["torch", "bare"])
    assert report["ratio_of"] == "torch/bare"


def test_bench_numpy_vs_torch_runs_both_engines(capsys):
    assert main(["bench", "--engine", "numpy", "--vs", "torch", *TINY, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    _check_report(report, ["numpy", "torch"])


def test_bench_human_output_names_both_loops_and_the_ratio(capsys):
    assert main(["bench", "--engine", "torch", "--device", "cpu", *TINY]) == 0
    out = capsys.readouterr().out
    assert "torch" in out and "bare" in out and "ratio torch/bare =" in out


@pytest.mark.parametrize("argv, message", [
    (["--precision", "bf16", "--device", "cpu"], "needs a CUDA device"),
    (["--vs", "torch"], "is the engine itself"),
    (["--optim", "lbfgs"], "unknown optimizer"),
    (["--engine", "numpy", "--precision", "tf32"], "numpy engine runs fp32 or fp64"),
])
def test_bench_bad_input_is_one_line_error(argv, message, capsys):
    assert main(["bench", "--engine", "torch", *TINY, *argv]) == 2  # a later --engine wins
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tangtui: error:") and message in err[0]
