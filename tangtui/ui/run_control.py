"""Start, stop and resume trainer processes through the ``tangtui`` CLI (a :class:`RunControl`).

Each run is its own detached process (``tangtui train --detach``), so it outlives the app;
these calls block for about as long as the CLI takes to start, so call them from a worker.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from tangtui.errors import TangtuiError

_RUN_ID = re.compile(r"\b\d{8}-\d{6}-[0-9a-f]{4}\b")
TIMEOUT_S = 60.0


class ProcessRunControl:
    """Runs ``python -m tangtui ...`` with ``TANGTUI_HOME`` pointing at the app's store."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else None

    def _cli(self, *args: str) -> str:
        env = dict(os.environ)
        if self.root is not None:
            env["TANGTUI_HOME"] = str(self.root)
        env.pop("TANGTUI_DEBUG", None)
        proc = subprocess.run([sys.executable, "-m", "tangtui", *args], capture_output=True,
                              text=True, env=env, timeout=TIMEOUT_S, stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            lines = [ln for ln in proc.stderr.splitlines() if ln.strip()] or [
                f"`tangtui {args[0]}` exited with status {proc.returncode}"]
            raise TangtuiError(lines[-1].removeprefix("tangtui: error: "))
        return proc.stdout

    def start(self, config: dict[str, Any], name: str | None = None) -> str:
        """Start a detached run of ``config`` (a ``RunConfig.to_dict()``); returns its id."""
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False,
                                         encoding="utf-8") as fh:
            json.dump(config, fh, ensure_ascii=False)
        try:
            args = ["train", "--detach", "--config", fh.name, "--json"]
            out = self._cli(*args, *(["--name", name] if name else []))
        finally:
            os.unlink(fh.name)
        return _run_id(out)

    def stop(self, run_id: str) -> None:
        self._cli("stop", run_id, "--no-wait")

    def resume(self, run_id: str) -> None:
        self._cli("resume", run_id, "--detach")


def _run_id(out: str) -> str:
    try:
        data = json.loads(out)
        if isinstance(data, dict) and data.get("id"):
            return str(data["id"])
    except ValueError:
        pass
    found = _RUN_ID.findall(out)
    if not found:
        raise TangtuiError(f"`tangtui train` printed no run id: {out.strip()[:200]!r}")
    return found[-1]
