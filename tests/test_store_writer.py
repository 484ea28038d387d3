"""The trainer's store writer: queued writes keep their order through an outage, the log says
how long the store was away, and a bounded wait gives up with a line saying what was lost."""

from __future__ import annotations

import pytest

from tangtui.runs.rows import StoreError
from tangtui.runs.writer import StoreWriter, retrying


def flaky(fails: dict, done: list, i: int):
    def write() -> None:
        if fails["n"] > 0:
            fails["n"] -= 1
            raise StoreError("cannot write the run store at /x: database is locked")
        done.append(i)
    return write


def test_writes_wait_in_order_and_the_outage_is_logged() -> None:
    said: list[str] = []
    writer = StoreWriter(said.append)
    fails, done = {"n": 3}, []
    for i in range(5):
        writer.put(f"row {i}", flaky(fails, done, i))
    assert writer.flush(20.0) and writer.pending() == 0
    assert done == [0, 1, 2, 3, 4]
    assert said[0] == ("the run store is not answering (database is locked); keeping row 0 and "
                       "what follows in memory, retrying")
    assert said[1].startswith("the run store answered after ") and "the 5 writes" in said[1]
    (waited, held), = writer.outages
    assert waited >= 0.25 + 0.5 + 1.0 and held == 5  # the back-off: 0.25 s, doubling
    assert writer.close(1.0)


def test_close_gives_up_after_its_timeout_and_says_so() -> None:
    said: list[str] = []
    writer = StoreWriter(said.append)
    writer.put("row 0", flaky({"n": 10**6}, [], 0))
    assert not writer.close(0.5)
    assert said[-1].startswith("gave up on the run store after 0.5 s: 1 writes")


def test_retrying_waits_then_raises_past_its_patience() -> None:
    said: list[str] = []
    fails, done = {"n": 2}, []
    retrying(flaky(fails, done, 7), "the end", said.append, patience=5.0)
    assert done == [7] and said[0].endswith("retrying the end")
    assert said[1].startswith("the run store answered after ") and said[1].endswith("the end done")
    with pytest.raises(StoreError, match="database is locked"):
        retrying(flaky({"n": 10**6}, [], 0), "the end", said.append, patience=0.3)
