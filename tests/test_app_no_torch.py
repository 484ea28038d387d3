"""The UI process never imports torch: build and drive the app (compose a poem with the NumPy
engine from a checkpoint) in a fresh interpreter where importing torch fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from app_checkpoint import make_tiny_run
from no_torch import BLOCK_TORCH

SCRIPT = BLOCK_TORCH + textwrap.dedent(
    """
    import asyncio, json, sys
    from tangtui.app import make_app
    from textual.widgets import Select

    async def main():
        app = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause(0.3)
            for key in "tmr":
                await pilot.press(key)
                await pilot.pause(0.2)
            await pilot.press("p")
            select = app.query_one("#c-model", Select)
            for _ in range(100):  # the models are listed by a worker
                await pilot.pause(0.1)
                if any(v == sys.argv[1] for _, v in select._options):
                    break
            select.value = sys.argv[1]
            await pilot.press("tab", "月", "enter")  # tab enters Start
            for _ in range(100):
                await pilot.pause(0.1)
                poem = app.query_one("#compose-poem").poem
                if poem is not None:
                    break
            notes = [n.message for n in app._notifications]
        print(json.dumps({"poem": poem.text if poem else None, "notes": notes,
                          "torch": sorted(m for m in sys.modules if m.split(".")[0] == "torch")}))

    asyncio.run(main())
    """
)


def test_app_builds_and_composes_without_torch(tmp_path: Path) -> None:
    home = Path(os.environ["TANGTUI_HOME"])
    run_id = make_tiny_run(home)
    out = subprocess.run([sys.executable, "-c", SCRIPT, run_id], capture_output=True,
                         text=True, timeout=120, env=os.environ.copy())
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["torch"] == []
    assert result["poem"] and result["poem"].startswith("月"), result["notes"]


def test_importing_the_app_imports_no_torch_numpy_or_corpus() -> None:
    code = ("import sys, json; import tangtui.app, tangtui.app_main; "
            "from tangtui.app import make_app; make_app(); "
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'torch', 'numpy', 'opencc'})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, env=os.environ.copy())
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == []
