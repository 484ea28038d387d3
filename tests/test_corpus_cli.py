"""`tangtui corpus ...` as a user runs it: a real subprocess, JSON out, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tangtui", *args], capture_output=True,
                          text=True, timeout=60, env={**os.environ, **(env or {})})


def test_stats_json():
    out = run("corpus", "stats", "--json")
    assert out.returncode == 0, out.stderr
    stats = json.loads(out.stdout)
    for key in ("poems", "authors", "characters", "vocab_size", "forms"):
        assert key in stats
    assert 50_000 <= stats["poems"] <= 57_607 and stats["authors"] > 2_500


def test_search_and_show_json():
    out = run("corpus", "search", "春眠不觉晓", "--json")
    hits = json.loads(out.stdout)
    assert hits and hits[0]["author"] == "孟浩然"
    assert {"id", "title", "author", "text"} <= set(hits[0])
    trad = json.loads(run("corpus", "search", "春眠不覺曉", "--json").stdout)
    assert [h["id"] for h in trad] == [h["id"] for h in hits]
    shown = json.loads(run("corpus", "show", hits[0]["id"], "--json").stdout)
    assert shown["title"] == "春晓" and "孟浩然" in shown["author_bio"]
    limited = json.loads(run("corpus", "search", "月", "--form", "qijue", "--limit", "3",
                             "--json").stdout)
    assert len(limited) == 3 and all(h["form"] == "qijue" for h in limited)


def _one_line_error(out: subprocess.CompletedProcess[str], needle: str) -> None:
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
    assert out.stderr.strip().count("\n") == 0, out.stderr
    assert needle in out.stderr


def test_bad_input_gets_one_line(tmp_path: Path):
    _one_line_error(run("corpus", "show", "no-such-poem"), "no poem")
    _one_line_error(run("corpus", "search", ""), "empty search query")
    _one_line_error(run("corpus", "search", "月", "--form", "sonnet"), "unknown form")
    _one_line_error(run("corpus", "search", "月", "--limit", "0"), "--limit")
    _one_line_error(run("corpus", "show", "ca2c"), "at least 6 characters")
    # argparse's own errors are one line too, pointing at --help
    _one_line_error(run("corpus", "search", "月", "--limit", "many"),
                    "tangtui corpus search --help")
    _one_line_error(run("corpus", "stats", "--script", "latin"), "invalid choice")
    _one_line_error(run("no-such-command"), "tangtui --help")
    missing = {"TANGTUI_CORPUS": str(tmp_path / "nope.jsonl.xz")}
    _one_line_error(run("corpus", "stats", env=missing), "corpus file not found")
    bad = tmp_path / "bad.jsonl.xz"
    bad.write_bytes(b"garbage")
    _one_line_error(run("corpus", "stats", env={"TANGTUI_CORPUS": str(bad)}), "corrupt")
