"""A camera's filter settings as a frozen value, read per request from a Redis-cached snapshot.

The request path never touches the database on a hit: one Redis round trip (MGET) answers both
"is this key bound to a camera?" and "what is the named camera?". Every change to a camera or a
key binding deletes the affected snapshots (apps/cameras/signals.py), so an edited zone applies
from the very next request. Parsed snapshots are memoised per process by their bytes, so a busy
camera's zones are compiled into polygons once, not on every frame.

While Redis is down (apps/core/breaker.py) the snapshots are read from the database and held
in this process for IPCAI_KEY_FALLBACK_CACHE_S, like API keys (apps/tenants/grants.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

import orjson
from django.conf import settings
from redis.exceptions import RedisError

from apps.cameras.geometry import Polygon
from apps.cameras.models import Camera, CameraKey
from apps.core.forgetting import forget
from apps.core.redis import get_redis, redis_breaker, redis_key, reply_bytes
from apps.tenants.application_types import APPLICATION_LABELS

# Unknown camera ids are remembered briefly, so a flood of made-up ids never reaches the
# database.
NEGATIVE_TTL_S = 60
MAX_SLICE_REGIONS = 8  # the worker's limit (gpu_worker/slicing.py MAX_REGIONS)


@dataclass(frozen=True, slots=True)
class ZoneConfig:
    name: str
    kind: str  # "include" | "mask"
    classes: frozenset[str]  # empty: the zone applies to every class
    polygon: Polygon

    def applies_to(self, label: str) -> bool:
        return not self.classes or label in self.classes

    @property
    def points(self) -> tuple[tuple[float, float], ...]:
        return self.polygon.points


@dataclass(frozen=True, slots=True)
class CameraConfig:
    """What the filter step (and the camera-events tracker) needs to know of a camera."""

    camera_id: str  # the public id (`cam_...`), as API clients name it
    pk: int
    tenant_id: int
    name: str
    services: tuple[str, ...]
    class_thresholds: Mapping[str, float]
    min_box_area: float | None
    min_box_pixels: int | None
    anchor: str
    zones: tuple[ZoneConfig, ...]
    slicing: str = "tier"  # Slicing: tier | on | off

    @property
    def include_zones(self) -> tuple[ZoneConfig, ...]:
        return tuple(z for z in self.zones if z.kind == "include")

    def slice_regions(self) -> str:
        """What the worker is asked to slice for this camera: the areas of its include zones
        (`x1:y1:x2:y2|...` in fractions of the frame, the worker's `slices` option), else the
        whole frame (`auto`). Only the zones' objects count, so only there is it worth looking
        closer (Frigate's regions). Each area reaches above its zone by a quarter of the frame
        when boxes are anchored at their bottom (a person standing in the zone stands up out
        of it) and by a tenth elsewhere, so the objects the zone keeps are whole in a slice."""
        zones = self.include_zones
        if not zones:
            return "auto"
        above = 0.25 if self.anchor == "bottom_center" else 0.1
        areas = [
            (z.polygon.min_x, z.polygon.min_y, z.polygon.max_x, z.polygon.max_y) for z in zones
        ]
        if len(areas) > MAX_SLICE_REGIONS:  # one area around them all
            areas = [
                (
                    min(a[0] for a in areas),
                    min(a[1] for a in areas),
                    max(a[2] for a in areas),
                    max(a[3] for a in areas),
                )
            ]
        return "|".join(
            f"{max(0.0, x1 - 0.1):.4g}:{max(0.0, y1 - above):.4g}:"
            f"{min(1.0, x2 + 0.1):.4g}:{min(1.0, y2 + 0.1):.4g}"
            for x1, y1, x2, y2 in areas
        )

    def threshold_floor(self, service_thresholds: Mapping[str, float]) -> float:
        """The lowest score any kept box may need, given each service's threshold (keyed by
        application type): what to ask the worker for, so a class threshold below its
        service's still sees its boxes."""
        floor = min(service_thresholds.values())
        for application_type in service_thresholds:
            for label in APPLICATION_LABELS[application_type]:
                floor = min(floor, self.class_thresholds.get(label, floor))
        return floor


def camera_entry(camera: Camera) -> dict:
    """The cached, JSON-safe snapshot of a camera (state "active")."""
    return {
        "state": "active",
        "camera_id": camera.public_id,
        "pk": camera.pk,
        "tenant_id": camera.tenant_id,
        "name": camera.name,
        "services": list(camera.services),
        "class_thresholds": dict(camera.class_thresholds),
        "min_box_area": camera.min_box_area,
        "min_box_pixels": camera.min_box_pixels,
        "anchor": camera.anchor,
        "zones": list(camera.zones),
        "slicing": camera.slicing,
    }


def config_of(entry: dict) -> CameraConfig:
    return CameraConfig(
        camera_id=entry["camera_id"],
        pk=entry["pk"],
        tenant_id=entry["tenant_id"],
        name=entry["name"],
        services=tuple(entry["services"]),
        class_thresholds=MappingProxyType(dict(entry["class_thresholds"])),
        min_box_area=entry["min_box_area"],
        min_box_pixels=entry["min_box_pixels"],
        anchor=entry["anchor"],
        zones=tuple(
            ZoneConfig(
                name=z["name"],
                kind=z["kind"],
                classes=frozenset(z.get("classes") or ()),
                polygon=Polygon.of(z["points"]),
            )
            for z in entry["zones"]
        ),
        slicing=entry.get("slicing", "tier"),  # snapshots cached before the setting existed
    )


def camera_cache_key(camera_id: str) -> str:
    return redis_key("camera", "id", camera_id)


def binding_cache_key(key_public_id: str) -> str:
    return redis_key("camera", "key", key_public_id)


def lookup(
    key_public_id: str, camera_id: str | None
) -> tuple[CameraConfig | None, CameraConfig | None]:
    """(the camera the key is bound to, the camera named `camera_id`), either None when there
    is none. One Redis round trip on a hit; the caller checks tenants and binding rules."""
    # (cache key, database loader, its argument, TTL rule, parse)
    wanted: list[
        tuple[
            str,
            Callable[[str], dict],
            str,
            Callable[[bytes], int],
            Callable[[bytes], CameraConfig | None],
        ]
    ] = []
    if key_public_id:
        wanted.append(
            (
                binding_cache_key(key_public_id),
                _load_binding,
                key_public_id,
                _binding_ttl,
                _bound_config,
            )
        )
    if camera_id:
        wanted.append(
            (camera_cache_key(camera_id), _load_camera, camera_id, _camera_ttl, _camera_config)
        )
    if not wanted:
        return None, None
    try:
        r = get_redis()
        found = []
        for (key, load, arg, ttl, parse), raw in zip(
            wanted, r.mget([w[0] for w in wanted]), strict=True
        ):
            if raw is None:
                raw = orjson.dumps(load(arg))
                r.set(key, raw, ex=ttl(raw))
            found.append(parse(reply_bytes(raw)))
    except RedisError:
        found = [
            parse(_snapshot_without_redis(key, load, arg)) for key, load, arg, _, parse in wanted
        ]
    bound = found.pop(0) if key_public_id else None
    named = found.pop(0) if camera_id else None
    return bound, named


_fallback_snapshots: dict[str, tuple[bytes, float]] = {}  # cache key -> (snapshot, read at)
FALLBACK_MAX_SNAPSHOTS = 10_000


def _snapshot_without_redis(key: str, load: Callable[[str], dict], arg: str) -> bytes:
    """Redis is down: the snapshot from the database, held in this process for
    IPCAI_KEY_FALLBACK_CACHE_S (the bound within which an edited camera applies), so a burst
    of frames costs one query per camera and interval."""
    redis_breaker().record_fallback("camera")
    now = time.monotonic()
    held = _fallback_snapshots.get(key)
    if held is not None and now - held[1] < settings.IPCAI_KEY_FALLBACK_CACHE_S:
        return held[0]
    raw = orjson.dumps(load(arg))
    if len(_fallback_snapshots) >= FALLBACK_MAX_SNAPSHOTS:
        _fallback_snapshots.clear()
    _fallback_snapshots[key] = (raw, now)
    return raw


def camera_config(camera_id: str) -> CameraConfig | None:
    """The named camera's config (any tenant: the caller compares tenant ids)."""
    return lookup("", camera_id)[1]


@lru_cache(maxsize=4096)
def _camera_config(raw: bytes) -> CameraConfig | None:
    entry = orjson.loads(raw)
    return config_of(entry) if entry.get("state") == "active" else None


@lru_cache(maxsize=4096)
def _bound_config(raw: bytes) -> CameraConfig | None:
    entry = orjson.loads(raw)
    camera = entry.get("camera")
    return config_of(camera) if camera else None


def _load_camera(camera_id: str) -> dict:
    camera = Camera.objects.filter(public_id=camera_id).first()
    return camera_entry(camera) if camera else {"state": "unknown"}


def _load_binding(key_public_id: str) -> dict:
    binding = (
        CameraKey.objects.select_related("camera").filter(api_key__public_id=key_public_id).first()
    )
    return {"camera": camera_entry(binding.camera) if binding else None}


def _camera_ttl(raw: bytes) -> int:
    return settings.IPCAI_KEY_CACHE_TTL_S if b'"active"' in raw else NEGATIVE_TTL_S


def _binding_ttl(raw: bytes) -> int:
    # Unbound keys too: binding a key deletes its snapshot, and most keys are unbound.
    return settings.IPCAI_KEY_CACHE_TTL_S


def forget_camera(camera_id: str, key_public_ids: list[str]) -> None:
    """Drop a camera's snapshot and those of the keys bound to it (they embed the camera);
    spooled while Redis is down (apps/core/forgetting.py)."""
    keys = [camera_cache_key(camera_id), *(binding_cache_key(k) for k in key_public_ids)]
    for key in keys:
        _fallback_snapshots.pop(key, None)
    forget(delete=keys)


def forget_bindings(key_public_ids: list[str]) -> None:
    if key_public_ids:
        keys = [binding_cache_key(k) for k in key_public_ids]
        for key in keys:
            _fallback_snapshots.pop(key, None)
        forget(delete=keys)
