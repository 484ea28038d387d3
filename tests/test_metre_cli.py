"""``tangtui metre`` and the metre options of ``tangtui generate`` / ``corpus stats``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from decode_fakes import tiny_checkpoint

from engine.metre.checker import check
from tangtui.cli import main

DENG_GAO = ("风急天高猿啸哀，渚清沙白鸟飞回。无边落木萧萧下，不尽长江滚滚来。"
            "万里悲秋常作客，百年多病独登台。艰难苦恨繁霜鬓，潦倒新停浊酒杯。")
JING_YE_SI = "床前明月光，疑是地上霜。举头望明月，低头思故乡。"


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tangtui", *args], input=stdin,
                          capture_output=True, text=True, timeout=120, env=os.environ.copy())


def test_a_passing_poem_prints_its_grid_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["metre", DENG_GAO]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "七言律诗 · 仄起首句入韵 · 韵 上平十灰 · pass"
    assert "风急天高猿啸哀  平仄平平平仄平  仄仄平平仄仄平  哀 上平十灰" in out


def test_a_failing_poem_says_why_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["metre", JING_YE_SI, "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["verdict"] == "fail" and report["form"] == "wujue"
    assert report["lines"][1]["marks"] == "平仄仄仄平"
    assert [(v["line"], v["chars"]) for v in report["violations"]] == [(2, [4]), (3, [2])]
    assert report["rhyme_group"] == "下平七阳"


def test_file_and_stdin(tmp_path: Path) -> None:
    poem = tmp_path / "poem.txt"
    poem.write_text("白日依山尽\n黄河入海流\n欲穷千里目\n更上一层楼\n", encoding="utf-8")
    by_file = run("metre", str(poem), "--json")
    by_stdin = run("metre", "-", "--json", stdin=poem.read_text(encoding="utf-8"))
    assert by_file.returncode == by_stdin.returncode == 0, by_file.stderr + by_stdin.stderr
    assert json.loads(by_file.stdout) == json.loads(by_stdin.stdout)


@pytest.mark.parametrize(("argv", "msg"), [
    (["metre"], "give a poem"),
    (["metre", ""], "empty poem"),
    (["metre", "Moonlight 床前"], "must be Chinese characters and punctuation"),
    (["metre", "春眠不觉晓，处处闻啼鸟。"], "not a regulated form: 2 lines of 5, 5 characters"),
    (["metre", "poems/missing.txt"], "no such file: poems/missing.txt"),
    (["generate", "--form", "wulv", "--metre", "strict", "--rhyme-scheme", "modern"],
     "--rhyme-scheme modern works only without --metre"),
    (["generate", "--metre", "loose"], "metre needs a strict form"),
])
def test_bad_input_one_line_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                   argv: list[str], msg: str) -> None:
    if argv[0] == "generate":
        argv = [*argv, "--run", str(tiny_checkpoint(tmp_path / "ckpt"))]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("tangtui: error: ") and err.count("\n") == 1 and msg in err, err


def test_generate_strict_json_passes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    ckpt = tiny_checkpoint(tmp_path / "ckpt")
    argv = ["generate", "--run", str(ckpt), "--form", "qijue", "--metre", "strict",
            "--pattern", "zeqi", "--seed", "4", "--n", "4", "--json"]
    assert main(argv) == 0
    poems = json.loads(capsys.readouterr().out)
    for p in poems:
        r = check(p["text"])
        assert r.passed and r.pattern.start == "仄起", (p["text"], r.violations)


def test_corpus_stats_reports_metre_pass_counts() -> None:
    out = run("corpus", "stats", "--json")
    assert out.returncode == 0, out.stderr
    metre = json.loads(out.stdout)["metre"]
    forms = json.loads(out.stdout)["forms"]
    for form in ("wujue", "qijue", "wulv", "qilv"):
        assert metre[form]["poems"] == forms[form]
        assert 0.3 * forms[form] < metre[form]["pass"] < 0.95 * forms[form]


def test_the_app_and_the_engine_load_no_metre_data_until_asked() -> None:
    code = ("import sys, json; import tangtui.app, tangtui.cli.cmd_generate, engine.generate; "
            "import engine.metre.checker; "
            "from engine.metre import phonology; "
            "print(json.dumps([phonology.groups.cache_info().currsize, "
            "sorted(m for m in sys.modules if m.split('.')[0] in "
            "('torch', 'textual', 'tangtui') and m.startswith(('torch', 'engine.metre.const')))]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, env=os.environ.copy())
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [0, []]  # nothing loaded, no torch, no masks module
    headless = ("import sys, json, engine.metre.checker, engine.metre.constrain; "
                "print(json.dumps(sorted(m for m in sys.modules "
                "if m.split('.')[0] in ('torch', 'textual', 'tangtui'))))")
    out = subprocess.run([sys.executable, "-c", headless], capture_output=True, text=True,
                         timeout=120, env=os.environ.copy())
    assert out.returncode == 0 and json.loads(out.stdout) == [], out.stderr
