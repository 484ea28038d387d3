"""``tangtui generate``: checkpoint lookup, JSON output, and one-line errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from decode_fakes import tiny_checkpoint

from engine.poem_forms import is_hanzi
from tangtui.cli import main
from tangtui.cli.cmd_generate import PENALTY, TEMPERATURE, TOP_K, TOP_P


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_checkpoint(tmp_path_factory.mktemp("cli") / "step-00000000")


@pytest.fixture
def no_starter(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import engine.generate as gen

    monkeypatch.setattr(gen, "__file__", str(tmp_path / "nowhere" / "engine" / "generate.py"))


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict]:
    assert main(["generate", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def fail(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = main(["generate", *argv])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("tangtui: error: ") and err.count("\n") == 1 and "Traceback" not in err
    return err


def test_json_poems_with_text_lines_and_seeds(capsys: pytest.CaptureFixture[str],
                                              ckpt: Path) -> None:
    poems = run_json(capsys, "--run", str(ckpt), "--form", "qijue", "--seed", "5", "--n", "3",
                     "--acrostic", "春夏秋冬", "--rhyme", "--top-k", "10", "--top-p", "0.9",
                     "--temperature", "1.1", "--repetition-penalty", "1.2")
    assert [p["seed"] for p in poems] == [5, 6, 7]
    for p in poems:
        assert "".join(p["lines"]) == p["text"] and len(p["lines"]) == 4
        assert [ln[0] for ln in p["lines"]] == list("春夏秋冬")
        assert all(len(ln) == 8 and ln[-1] in "，。" for ln in p["lines"])
        assert "candidates" not in p
    again = run_json(capsys, "--run", str(ckpt), "--form", "qijue", "--seed", "7",
                     "--acrostic", "春夏秋冬", "--rhyme", "--top-k", "10", "--top-p", "0.9",
                     "--temperature", "1.1", "--repetition-penalty", "1.2")
    assert again[0]["text"] == poems[2]["text"]


def test_candidates_in_json_and_text(capsys: pytest.CaptureFixture[str], ckpt: Path) -> None:
    poem = run_json(capsys, "--run", str(ckpt), "--form", "wujue", "--seed", "1",
                    "--candidates", "4")[0]
    assert len(poem["candidates"]) == len(poem["text"]) == 24
    assert all(len(c["top"]) == 4 for c in poem["candidates"])
    assert main(["generate", "--run", str(ckpt), "--form", "wujue", "--seed", "1",
                 "--candidates", "4"]) == 0
    out = capsys.readouterr()
    assert out.out.splitlines()[:4] == poem["lines"] and "│" in out.out
    assert "seed 1" in out.err


def test_prefix_and_start_and_traditional_input(capsys: pytest.CaptureFixture[str],
                                                ckpt: Path) -> None:
    with_prefix = run_json(capsys, "--run", str(ckpt), "--prefix", "鳥飛歸,", "--start", "雲",
                           "--seed", "2")[0]
    plain = run_json(capsys, "--run", str(ckpt), "--start", "云", "--seed", "2")[0]
    assert with_prefix["text"].startswith("云") and plain["text"].startswith("云")
    assert with_prefix["text"] != plain["text"]  # the prefix set the mood, unprinted
    assert is_hanzi(with_prefix["text"][0]) and len(with_prefix["text"]) <= 100


def test_engines_agree_from_the_command_line(capsys: pytest.CaptureFixture[str],
                                             ckpt: Path) -> None:
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    try:
        args = ("--run", str(ckpt), "--form", "wulv", "--seed", "9", "--n", "2")
        assert run_json(capsys, *args, "--engine", "torch") == \
            run_json(capsys, *args, "--engine", "numpy")
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize(("argv", "msg"), [
    (["--form", "qijue", "--acrostic", "春夏秋冬月光"], "a 6-character acrostic needs 6 lines"),
    (["--form", "wujue", "--start", "春江花月明山"], "longer than a line of wujue"),
    (["--start", "鹤"], "'鹤' in the start words is not in the model's vocabulary"),
    (["--prefix", "鶴"], "'鶴' in the prefix is not in the model's vocabulary "
                         "(nor its simplified form '鹤')"),
    (["--rhyme"], "rhyme needs a strict form"),
    (["--top-p", "0"], "top-p must be in (0, 1]"),
    (["--temperature", "-1"], "temperature must be >= 0"),
    (["--top-k", "-2"], "top-k must be >= 0"),
    (["--repetition-penalty", "0.5"], "repetition penalty must be >= 1"),
    (["--n", "0"], "number of poems must be at least 1"),
    (["--seed", "-3"], "the seed must be >= 0"),
    (["--candidates", "-1"], "candidates must be >= 0"),
    (["--acrostic", "春夏", "--start", "月"], "begin with '月' but the acrostic begins with '春'"),
])
def test_bad_input_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], ckpt: Path,
                                       argv: list[str], msg: str) -> None:
    assert msg in fail(capsys, "--run", str(ckpt), *argv)


def test_unknown_run_and_missing_starter(capsys: pytest.CaptureFixture[str],
                                         no_starter: None) -> None:
    assert "no run 'nope'" in fail(capsys, "--run", "nope")
    assert "starter model is missing" in fail(capsys)


def _make_run(name: str, status: str, ckpt: Path | None, ppl: float | None = None,
              corpus: dict | None = None) -> str:
    import shutil

    from tangtui.runs.store import Store

    store = Store()
    run = store.create_run({"engine": "numpy", "corpus": corpus or {}}, name=name,
                           engine="numpy")
    store.update_run(run.id, status=status, best_test_ppl=ppl)
    if ckpt is not None:
        shutil.copytree(ckpt, store.run_dir(run.id) / "checkpoints" / "step-00000010")
        store.update_run(run.id, checkpoint_step=10)
    return run.id


def test_default_is_the_best_comparable_model(capsys: pytest.CaptureFixture[str], ckpt: Path,
                                              tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import json
    import shutil

    import engine.generate as gen

    starter = tmp_path / "starter"
    shutil.copytree(ckpt, starter)
    monkeypatch.setattr(gen, "starter_dir", lambda: starter)  # a starter model stands in
    assert main(["generate", "--seed", "1"]) == 0
    assert "# starter model" in capsys.readouterr().err
    _make_run("smoke", "finished", ckpt, ppl=40.0, corpus={"forms": ["wujue"],
                                                           "max_poems": 300})
    _make_run("good", "finished", ckpt, ppl=150.0)
    _make_run("better", "finished", ckpt, ppl=120.0)
    _make_run("newest-running", "running", ckpt, ppl=90.0)
    _make_run("finished-empty", "finished", None)
    assert main(["generate", "--seed", "1"]) == 0
    assert "# run better" in capsys.readouterr().err  # not the subset, not the newest
    meta = json.loads((starter / "meta.json").read_text())
    meta["heldout"] = {"ppl": 110.0}
    (starter / "meta.json").write_text(json.dumps(meta))
    assert main(["generate", "--seed", "1"]) == 0
    assert "# starter model" in capsys.readouterr().err  # the starter now scores best
    assert "has no checkpoint yet" in fail(capsys, "--run", "finished-empty")
    assert main(["generate", "--run", "newest-running", "--seed", "1"]) == 0
    assert "# run newest-running" in capsys.readouterr().err
    assert main(["generate", "--run", "starter", "--seed", "1"]) == 0
    assert "# starter model" in capsys.readouterr().err


def test_model_labels_show_the_per_poem_perplexity() -> None:
    from tangtui.runs.models import ModelChoice

    assert ModelChoice("a", "big", 131.24, True, True, 4000).label == \
        "big · step 4,000 · ppl 131.2"
    assert ModelChoice("b", "smoke", 301.0, False, True, 30).label.endswith("(subset)")
    assert ModelChoice("c", "live", None, True, False, 10).label == \
        "live · step 10 · ppl - (training)"


def test_cli_defaults_match_the_sampler() -> None:
    from engine.decode import Sampling

    s = Sampling()
    assert (s.temperature, s.top_k, s.top_p, s.repetition_penalty) == \
        (TEMPERATURE, TOP_K, TOP_P, PENALTY)


def test_form_must_be_known(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["generate", "--form", "sonnet"])
    assert exc.value.code == 2 and "invalid choice: 'sonnet'" in capsys.readouterr().err




def _race_best_once(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The first checkpoint read finds `best` gone mid-read (the trainer renaming a new one
    into place); returns the paths read."""
    import shutil

    import engine.generate as gen

    real, reads = gen.load_checkpoint, []

    def racing(path, **kw):
        reads.append(Path(path))
        if len(reads) == 1:
            shutil.rmtree(path)  # between "best is complete" and reading its files
        return real(path, **kw)

    monkeypatch.setattr(gen, "load_checkpoint", racing)
    return reads


def test_a_best_checkpoint_replaced_while_reading_is_retried(
        capsys: pytest.CaptureFixture[str], ckpt: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from tangtui.runs.store import Store

    run_id = _make_run("live", "running", ckpt)
    best = Store().run_dir(run_id) / "checkpoints" / "best"
    shutil.copytree(ckpt, best)
    reads = _race_best_once(monkeypatch)
    assert run_json(capsys, "--run", "live", "--seed", "1")[0]["text"]
    assert [p.name for p in reads] == ["best", "step-00000010"]


def test_the_app_poet_retries_a_replaced_best_checkpoint(
        ckpt: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from tangtui.runs.store import Store
    from tangtui.ui.backends import ComposeRequest
    from tangtui.ui.compose_backend import EnginePoet

    run_id = _make_run("live", "running", ckpt)
    store = Store()
    shutil.copytree(ckpt, store.run_dir(run_id) / "checkpoints" / "best")
    reads = _race_best_once(monkeypatch)
    poems = EnginePoet(store.root).generate(ComposeRequest(model=run_id, seed=1))
    assert poems[0].text and [p.name for p in reads] == ["best", "step-00000010"]


def test_is_complete_needs_both_files(ckpt: Path, tmp_path: Path) -> None:
    import shutil

    from engine.checkpoint import is_complete

    assert is_complete(ckpt) and not is_complete(tmp_path / "missing")
    half = tmp_path / "half"
    shutil.copytree(ckpt, half)
    (half / "model.safetensors").unlink()
    assert not is_complete(half)
