"""The durable spool keeps every message until Redis has taken it."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest

from apps.core.spool import ARCHIVE, USAGE, Spool


def collect(into: list[bytes]):
    """A publish function that records the payloads it was given."""
    return lambda kind, payload: into.append(payload)


def test_replay_publishes_oldest_first_and_empties_the_spool(tmp_path):
    spool = Spool(tmp_path)
    for i in range(5):
        spool.put(f"event-{i}", f"message {i}".encode())
    published: list[bytes] = []
    result = spool.replay(collect(published))
    assert published == [f"message {i}".encode() for i in range(5)]
    assert (result.published, result.remaining, result.error) == (5, 0, None)
    assert not spool.has_pending()


def test_a_failing_broker_keeps_the_failed_message_and_the_rest(tmp_path):
    spool = Spool(tmp_path)
    for i in range(4):
        spool.put(f"event-{i}", f"message {i}".encode())
    published: list[bytes] = []

    def broker_dies_after_two(kind: str, payload: bytes) -> None:
        if len(published) == 2:
            raise ConnectionError("broker went away")
        published.append(payload)

    result = spool.replay(broker_dies_after_two)
    assert (result.published, result.remaining) == (2, 2)
    assert "broker went away" in result.error
    # The broker is back: the two left are published, none twice, none lost.
    result = spool.replay(collect(published))
    assert published == [f"message {i}".encode() for i in range(4)]
    assert result.remaining == 0


def test_half_written_files_are_never_replayed(tmp_path):
    spool = Spool(tmp_path)
    spool.put("complete", b"whole message")
    # What a crash in the middle of put() leaves behind: a temporary file, never a ready one.
    spool.tmp_dir.mkdir(parents=True, exist_ok=True)
    (spool.tmp_dir / "crashed.partial").write_bytes(b"whole mes")
    published: list[bytes] = []
    spool.replay(collect(published))
    assert published == [b"whole message"]


@pytest.mark.parametrize("name", ["", "a/b", ".hidden"])
def test_spool_names_are_plain_file_names(tmp_path, name):
    with pytest.raises(ValueError):
        Spool(tmp_path).put(name, b"x")


def _hold_replay_lock(root: str, holding, release) -> None:
    def wait_inside(_kind: str, _payload: bytes) -> None:
        holding.set()
        release.wait(30)

    Spool(Path(root)).replay(wait_inside)


def test_only_one_process_replays_at_a_time(tmp_path):
    spool = Spool(tmp_path)
    spool.put("first", b"1")
    spool.put("second", b"2")
    ctx = multiprocessing.get_context("spawn")
    holding, release = ctx.Event(), ctx.Event()
    other = ctx.Process(target=_hold_replay_lock, args=(str(tmp_path), holding, release))
    other.start()
    try:
        assert holding.wait(30), "the other process never started replaying"
        published: list[bytes] = []
        result = spool.replay(collect(published))
        assert published == []
        assert result.published == 0
    finally:
        release.set()
        other.join(30)
    assert not spool.has_pending()


def test_archive_and_usage_messages_share_the_spool_and_replay_by_kind_in_order(tmp_path):
    spool = Spool(tmp_path)
    spool.ready_dir.mkdir(parents=True)
    # What a portal from before kinds existed left: `<time>-<event id>.msg`, an archive event.
    (spool.ready_dir / f"{time.time_ns():020d}-e1.msg").write_bytes(b"event 1")
    spool.put("u1", b"usage 1", kind=USAGE)
    spool.put("e2", b"event 2", kind=ARCHIVE)
    assert spool.stats().by_kind == {ARCHIVE: 2, USAGE: 1}
    assert spool.stats().oldest_age_s is not None
    replayed: list[tuple[str, bytes]] = []
    spool.replay(lambda kind, payload: replayed.append((kind, payload)))
    assert replayed == [(ARCHIVE, b"event 1"), (USAGE, b"usage 1"), (ARCHIVE, b"event 2")]
    assert spool.stats().files == 0
