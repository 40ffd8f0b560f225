"""The capture clock of a recording replayed as a camera (`ipcai watch FILE --camera ID`).

The service times a camera's events by capture time and takes a frame older than the camera's
last one for a late frame (it opens nothing), and it does not believe a time more than a few
seconds in the future. So a recording is stamped as if it had been recorded just before the
watch started, and never before the end of this machine's last replay to the same camera (kept
in a small file under the user's cache folder): replaying the same clip twice in a row then
produces its events twice. When that puts the recording's clock ahead of the wall clock, its
frames are sent no earlier than their capture time, in real time, until it is caught up.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

# A gap after the last replay longer than a camera's default event timeout (3 s): the last
# replay's visits end before this one's begin.
GAP_S = 10.0
# The service believes capture times up to 5 s ahead; stay well inside that.
AHEAD_S = 2.0


def state_file() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "ipcai" / "replay-clock.json"


def _read() -> dict[str, float]:
    try:
        data = json.loads(state_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): float(v) for k, v in data.items()} if isinstance(data, dict) else {}


def replay_start(camera: str, duration: float, now: float | None = None) -> float:
    """The capture time of the recording's first frame."""
    now = time.time() if now is None else now
    start = now - duration
    last = _read().get(camera)
    if last is not None and last + GAP_S > start:
        start = last + GAP_S
    return start


def remember(camera: str, captured_at: float) -> None:
    """Note the latest capture time sent to `camera` (best effort: a read-only home only
    loses the next replay's offset)."""
    times = _read()
    if times.get(camera, 0.0) >= captured_at:
        return
    times[camera] = captured_at
    path = state_file()
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(times), encoding="utf-8")
        temporary.replace(path)


def wait_until_believed(captured_at: float, wait: Callable[[float], object]) -> None:
    """Hold a frame whose capture time is ahead of the wall clock until it no longer is."""
    ahead = captured_at - time.time() - AHEAD_S
    if ahead > 0:
        wait(ahead)
