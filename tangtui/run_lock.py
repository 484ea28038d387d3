"""One trainer per run: an exclusive ``fcntl.flock`` on ``<run dir>/lock`` holding the pid.

The kernel drops the lock when the process dies (even by ``kill -9``), so a stale lock file never
blocks a resume, and "is the lock held?" is the reliable test of "is a trainer alive?".
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from tangtui.errors import TangtuiError

LOCK_NAME = "lock"


class RunLock:
    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise :class:`TangtuiError` naming the process that holds it."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise TangtuiError(f"cannot open the run lock {self.path}: "
                               f"{exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            holder = lock_holder(self.path.parent)
            who = f" (pid {holder})" if holder else ""
            raise TangtuiError(f"run {self.path.parent.name} is already being trained{who}; "
                               "stop it first with `tangtui stop`") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def is_locked(run_dir: Path) -> bool:
    """True while some process (this one included) holds the run's lock."""
    path = Path(run_dir) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing drops the probe's own lock
    return False


def lock_holder(run_dir: Path) -> int | None:
    """The pid written by the trainer holding the lock, or None if the lock is free."""
    if not is_locked(run_dir):
        return None
    try:
        return int((Path(run_dir) / LOCK_NAME).read_text().strip() or 0) or None
    except (OSError, ValueError):
        return None
