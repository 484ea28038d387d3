"""The headless core stays headless, and the NumPy path runs where torch is not installed.

Each check runs in a fresh interpreter so that nothing imported by another test hides a leak.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from no_torch import BLOCK_TORCH

HEADLESS = [
    "engine.corpus", "engine.config", "engine.checkpoint", "engine.base", "engine.init",
    "engine.numpy_engine", "engine.gradcheck", "engine.decode", "engine.trainer", "engine.lab",
]


def _python(code: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=timeout, env=os.environ.copy())


@pytest.mark.parametrize("module", HEADLESS)
def test_engine_module_imports_neither_ui_nor_torch(module):
    code = (f"import importlib, json, sys; importlib.import_module({module!r}); "
            "print(json.dumps(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('torch', 'textual', 'tangtui', 'textual_plotext'))))")
    out = _python(code)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == []


def test_numpy_path_works_without_torch(tmp_path):
    """gradcheck, a tiny training run and generation, with torch made unimportable."""
    code = BLOCK_TORCH + textwrap.dedent(
        """
        import json, sys
        from tangtui.cli import main
        rc = main(["gradcheck", "--engine", "numpy", "--json"])
        assert rc == 0, rc
        rc = main(["train", "--engine", "numpy", "--preset", "tiny", "--name", "notorch"])
        assert rc == 0, rc
        rc = main(["generate", "--engine", "numpy", "--start", "月", "--seed", "1", "--json"])
        assert rc == 0, rc
        assert not any(m.split(".")[0] == "torch" for m in sys.modules)
        """
    )
    out = _python(code, timeout=240)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
