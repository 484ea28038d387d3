"""The lab at its ``tiny`` scale: real member runs in a real store, the invariants checked exactly,
verdicts that can come out false, and the ``tangtui lab`` command's bad input and faults."""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path

import pytest

from engine.config import INITS
from engine.lab import get_experiment
from engine.lab.exp_optimizers import OPTIMIZERS
from engine.lab.scales import base_config
from engine.lab.spec import LabData, MemberData
from tangtui.cli import main
from tangtui.runs.experiments import lab_data
from tangtui.runs.lab_runner import ProbeHooks, run_experiment
from tangtui.runs.store import Store


def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        out.update(_flat(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
    return out


def _finished(members, ppl=lambda m: 100.0) -> list[MemberData]:  # noqa: ANN001
    return [MemberData(m.key, m.group, m.seed, m.phase, f"r{i}", "finished",
                       base_config("tiny", m.overrides).to_dict(), {}, [(1, 6.0, 1.0)],
                       [(1, math.log(ppl(m)), ppl(m))]) for i, m in enumerate(members)]


def run(kind: str, root: Path, seeds: int = 1, **kw) -> tuple[Store, str]:  # noqa: ANN003
    store = Store(root)
    exp = store.create_experiment(kind, "tiny", seeds, {})
    status = run_experiment(exp.id, store=store, handle_signals=False, log=False, **kw)
    return store, exp.id if status else exp.id


@pytest.fixture(scope="module")
def init_lab(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, str]:
    return run("init", tmp_path_factory.mktemp("lab") / "home")


@pytest.fixture(scope="module")
def grad_lab(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, str]:
    return run("gradients", tmp_path_factory.mktemp("lab") / "home")


# -- optimizers: the plan and the verdicts ------------------------------------------------------

@pytest.mark.parametrize("scale", ["tiny", "small", "report"])
def test_optimizer_members_differ_only_in_optimizer_and_lr(scale: str) -> None:
    exp = get_experiment("optimizers")
    grid = exp.plan(scale, 3, [], {})
    assert len(grid) == len(OPTIMIZERS) * len({m.key.split("=")[1] for m in grid
                                               if m.group == "adam"})
    full = exp.plan(scale, 3, _finished(grid, lambda m: 50.0 + m.overrides["optim.lr"]), {})
    assert len(full) == len(grid) + 2 * len(OPTIMIZERS)  # the best rate, two more seeds
    configs = {m.key: (m.seed, _flat(base_config(scale, m.overrides).to_dict())) for m in full}
    ref_seed, ref = configs[full[0].key]
    for key, (seed, cfg) in configs.items():
        differ = {k for k in cfg if cfg[k] != ref[k]}
        allowed = {k for k in differ if k.startswith("optim.")}
        assert differ - allowed <= ({"train.seed"} if seed != ref_seed else set()), key
    adadelta = [c for s, c in configs.values() if c["optim.name"] == "adadelta"]
    assert {c["optim.eps"] for c in adadelta} == {1e-6}  # torch's own, not the shared 1e-8
    assert any(c["optim.accum"] == 0 for _, c in configs.values())  # full-batch GD


def test_a_bad_learning_rate_grid_is_refused() -> None:
    for grid in ([], [0.0], [-1.0, 1.0]):
        with pytest.raises(ValueError, match="positive"):
            get_experiment("optimizers").plan("tiny", 1, [], {"lr_grid": grid})


def _race(first: str) -> LabData:
    exp = get_experiment("optimizers")
    grid = exp.plan("tiny", 1, [], {})
    members = _finished(grid)
    for m in members:  # loss 6.0 at step 1 for the winner, at step 5 for the others
        m.metrics = [(1, 6.0 if m.group == first else 6.8, 1.0), (5, 6.0, 1.0)]
        m.evals = [(5, 5.0, 150.0 if m.group == first else 200.0)]
    return LabData("optimizers", "tiny", 1, members, {}, 665)


@pytest.mark.parametrize("first", ["adam", "sgd"])
def test_the_optimizer_verdicts_follow_the_data(first: str) -> None:
    report = get_experiment("optimizers").report(_race(first))
    race, lowest = report.verdicts
    assert race.holds is (first == "adam") and lowest.holds is (first == "adam")
    assert ("1 steps" in race.detail) if first == "adam" else ("first sgd" in race.detail)
    assert [r[0] for r in report.rows] == [o[0] for o in OPTIMIZERS]
    assert "eps 1e-06" in dict((r[0], r[1]) for r in report.rows)["adadelta"]


# -- init, gradients, perplexity: real runs at the tiny scale ---------------------------------

def test_zero_init_stays_symmetric_at_every_step_and_xavier_does_not(init_lab) -> None:
    store, exp_id = init_lab
    data = lab_data(store, store.get_experiment(exp_id))
    assert store.get_experiment(exp_id).status == "finished"
    by_group = {m.group: m for m in data.members}
    assert set(by_group) == set(INITS) and all(m.status == "finished" for m in data.members)
    total = by_group["zeros"].config["train"]["steps"]
    for scheme, m in by_group.items():
        steps = [s for s, _ in m.probes["max_cos"]]
        assert steps == list(range(0, total + 1))  # step 0 and every log step
        cos = [v for _, v in m.probes["max_cos"]]
        if scheme == "zeros":
            assert all(abs(c - 1.0) <= 1e-12 for c in cos)
        elif scheme == "xavier":
            assert all(c < 1.0 - 1e-3 for c in cos)
        assert set(m.probes["hist_f"][0][1]) and len(m.probes["hist_f"]) == 2  # first, last
    report = get_experiment("init").report(data)
    assert report.verdicts[0].holds is True and report.verdicts[1].holds is True
    assert "xavier" in report.verdicts[0].detail


def test_the_gradient_check_and_the_gradient_flow(grad_lab) -> None:
    store, exp_id = grad_lab
    exp = store.get_experiment(exp_id)
    check = exp.results["gradcheck"]
    assert all(p["rel_error"] < 1e-6 for p in check["params"].values())
    assert sum(sum(p["hist"]) for p in check["params"].values()) == \
        sum(p["elements"] for p in check["params"].values())
    data = lab_data(store, exp)
    zeros = next(m for m in data.members if m.group == "zeros")
    assert all(v == 0.0 for _, flow in zeros.probes["flow"] for v in flow)
    standard = next(m for m in data.members if m.group == "standard")
    assert all(v > 0 for v in standard.probes["flow"][0][1])
    v1, v2, _ = get_experiment("gradients").report(data).verdicts
    assert v1.holds is True and v2.holds is True


def test_perplexity_three_ways(tmp_path: Path) -> None:
    store, exp_id = run("perplexity", tmp_path / "home")
    exp = store.get_experiment(exp_id)
    [found] = exp.results["three_ways"].values()
    assert found["padded"] < found["per_poem"] and math.isfinite(found["stream"])
    assert found["targets"] + found["pad_targets"] == found["poems"] * 125
    data = lab_data(store, exp)
    assert data.members[0].metrics[0][0] == 1  # the curve starts at the first update
    v1, v2, v3 = get_experiment("perplexity").report(data).verdicts
    assert v2.holds is True and v1.holds is not None and v3.holds is not None


def test_a_stopped_experiment_resumes_with_contiguous_curves(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stop = threading.Event()
    seen: list[str] = []
    original = ProbeHooks.on_log

    def stop_in_second_member(self, p) -> None:  # noqa: ANN001
        original(self, p)
        if self.run_id not in seen:
            seen.append(self.run_id)
        if len(seen) == 2 and p.step == 3:
            stop.set()

    monkeypatch.setattr(ProbeHooks, "on_log", stop_in_second_member)
    store, exp_id = run("init", tmp_path / "home", stop=stop)
    assert store.get_experiment(exp_id).status == "stopped"
    second = store.get_run(seen[1])
    assert second.status == "stopped" and second.step == 3
    monkeypatch.setattr(ProbeHooks, "on_log", original)
    assert run_experiment(exp_id, store=store, handle_signals=False, log=False) == "finished"
    for m in lab_data(store, store.get_experiment(exp_id)).members:
        total = m.config["train"]["steps"]
        assert [s for s, _, _ in m.metrics] == list(range(1, total + 1)), m.key
        assert [s for s, _ in m.probes["max_cos"]] == list(range(0, total + 1)), m.key


# -- the command line -------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["lab", "run", "nonsense"], ["lab", "run", "init", "--scale", "huge"],
    ["lab", "run", "init", "--seeds", "0"], ["lab", "run", "optimizers", "--lr-grid", ""],
    ["lab", "run", "optimizers", "--lr-grid", "0,1"], ["lab", "run", "optimizers",
                                                       "--lr-grid", "a"],
    ["lab", "run", "optimizers", "--lr-grid", "nan"], ["lab", "run", "init", "--seeds", "-2"],
    ["lab", "run", "init", "--lr-grid", "1,2"], ["lab", "run", "init", "--seeds", "x"],
    ["lab", "show", "nope"], ["lab", "stop", "nope"], ["lab", "rm", "nope", "--yes"],
    ["lab", "resume", "nope"],
])
def test_bad_input_is_one_line_and_creates_nothing(args: list[str], tangtui_home: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main(args)
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("tangtui") and "error:" in err and len(err.splitlines()) == 1
    assert Store().list_experiments() == [] and Store().list_runs() == []


def test_show_json_export_and_rm(init_lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    store, exp_id = init_lab
    monkeypatch.setenv("TANGTUI_HOME", str(store.root))
    assert main(["lab", "show", exp_id[:6], "--json", "--export", str(tmp_path / "x")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["members_done"] == out["members"] == len(INITS)
    assert out["verdicts"][0]["holds"] is True and len(out["table"]["rows"]) == len(INITS)
    for name in ("loss", "max_cosine", "effective_rank", "gates-xavier"):
        assert (tmp_path / "x" / f"{name}.csv").stat().st_size > 0
        assert "\x1b" not in (tmp_path / "x" / f"{name}.txt").read_text()
    assert main(["lab", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [x["id"] for x in listed["experiments"]] == [exp_id]
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main(["lab", "rm", exp_id]) == 2  # not a terminal: --yes is needed
    assert "--yes" in capsys.readouterr().err
    dirs = [store.run_dir(m.run_id) for m in store.experiment_members(exp_id)]
    assert all(d.is_dir() for d in dirs)
    assert main(["lab", "rm", exp_id, "--yes"]) == 0
    assert not any(d.exists() for d in dirs) and store.list_experiments() == []
