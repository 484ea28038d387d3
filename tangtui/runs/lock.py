"""One trainer per run: an exclusive ``fcntl.flock`` on ``<run dir>/lock`` holding the pid.

The kernel drops the lock when the process dies (even by ``kill -9``), so a stale lock file never
blocks a resume, and "is the lock held?" is the reliable test of "is a trainer alive?".

The pid in the file is only a hint: it is written just after the lock is taken and emptied on
release, and a ``kill -9`` leaves a stale one behind (whose number the system may give to another
process). So :func:`lock_holder` returns a pid only while the lock is held *and* (where ``/proc``
exists) that process has the lock file open.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from pathlib import Path

from tangtui.errors import TangtuiError

LOCK_NAME = "lock"
ACQUIRE_RETRY_S = 0.5  # a probe of is_locked() holds a shared lock for a few microseconds


class RunLockedError(TangtuiError):
    """Another process holds the run's lock."""

    def __init__(self, message: str, pid: int | None) -> None:
        super().__init__(message)
        self.pid = pid


class RunLock:
    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / LOCK_NAME
        self._fd: int | None = None

    def acquire(self, retry_s: float = ACQUIRE_RETRY_S) -> None:
        """Take the lock or raise :class:`RunLockedError` naming the process that holds it.

        Retries for ``retry_s``: a concurrent :func:`is_locked` probe (every 50 ms while
        :func:`tangtui.runs.runner.spawn` waits) briefly holds a shared lock.
        """
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise TangtuiError(f"cannot open the run lock {self.path}: "
                               f"{exc.strerror or exc}") from None
        deadline = time.monotonic() + retry_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN) and \
                        time.monotonic() < deadline:
                    time.sleep(0.01)
                    continue
                os.close(fd)
                holder = lock_holder(self.path.parent)
                who = f" (pid {holder})" if holder else ""
                raise RunLockedError(f"run {self.path.parent.name} is already being trained"
                                     f"{who}; stop it first with `tangtui stop`", holder) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Empty the pid file, then drop the lock (so no stale pid outlives a clean exit)."""
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, 0)
            except OSError:
                pass  # the run directory was deleted or the disk is read-only: harmless
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


def _has_open(pid: int, path: Path) -> bool:
    """True if process ``pid`` has ``path`` open (always True where /proc cannot tell)."""
    fd_dir = Path(f"/proc/{pid}/fd")
    if not Path("/proc/self/fd").is_dir():
        return True  # no /proc (macOS): trust the pid file
    target = os.path.realpath(path)
    try:
        names = os.listdir(fd_dir)
    except FileNotFoundError:
        return False  # no such process any more
    except OSError:
        return True  # another user's process: signalling it will fail with a clear error
    for name in names:
        try:
            if os.readlink(fd_dir / name) == target:
                return True
        except OSError:
            continue
    return False


def lock_holder(run_dir: Path) -> int | None:
    """The pid of the trainer holding the lock, or None if the lock is free.

    Also None in the instant between a trainer taking the lock and writing its pid, and for a
    stale pid left by a killed trainer (checked through ``/proc/<pid>/fd`` where it exists).
    """
    if not is_locked(run_dir):
        return None
    path = Path(run_dir) / LOCK_NAME
    try:
        pid = int(path.read_text().strip() or 0)
    except (OSError, ValueError):
        return None
    return pid if pid > 0 and _has_open(pid, path) else None


def training_error(name: str, pid: int | None) -> RunLockedError:
    """The refusal of an action (delete, resume) on a run whose trainer holds the lock."""
    who = f" (pid {pid})" if pid else ""
    return RunLockedError(f"run {name} is training{who}; stop it first with "
                          f"`tangtui stop {name}`", pid)
