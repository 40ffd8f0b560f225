"""The tenant's cameras, through `/api/v1/cameras`: zones, masks, class thresholds, size filter
and the keys bound to each camera.

The service checks every setting (and names the field when one is wrong); this module only
shapes the calls and prints the answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ipcai.client import Client
from ipcai.text import plural

CAMERAS_PATH = "/api/v1/cameras"


def list_cameras(client: Client) -> list[dict[str, Any]]:
    return list(client.get_json(CAMERAS_PATH)["cameras"])


def get_camera(client: Client, camera_id: str) -> dict[str, Any]:
    return client.get_json(f"{CAMERAS_PATH}/{camera_id}")


def create_camera(client: Client, settings: Mapping[str, Any]) -> dict[str, Any]:
    """A new camera; `settings` as the API takes them (name, services, class_thresholds,
    min_box_area, min_box_pixels, anchor, zones)."""
    return client.send_json("POST", CAMERAS_PATH, dict(settings))


def update_camera(client: Client, camera_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Change some settings (zones are replaced as a whole list)."""
    return client.send_json("PATCH", f"{CAMERAS_PATH}/{camera_id}", dict(changes))


def delete_camera(client: Client, camera_id: str) -> None:
    client.send_json("DELETE", f"{CAMERAS_PATH}/{camera_id}")


def bind_key(client: Client, camera_id: str, key_id: str) -> dict[str, Any]:
    """Bind an existing key (public id or `ipcai_<id>` prefix) to the camera."""
    key_id = key_id.removeprefix("ipcai_").split("_", 1)[0]
    return client.send_json("POST", f"{CAMERAS_PATH}/{camera_id}/keys", {"key": key_id})


def issue_bound_key(client: Client, camera_id: str, name: str = "") -> tuple[dict, str]:
    """A new key bound to the camera, and its secret (returned this once only)."""
    data = client.send_json("POST", f"{CAMERAS_PATH}/{camera_id}/keys", {"name": name})
    return data["camera"], str(data["secret"])


def unbind_key(client: Client, camera_id: str, key_id: str) -> dict[str, Any]:
    key_id = key_id.removeprefix("ipcai_").split("_", 1)[0]
    return client.send_json("DELETE", f"{CAMERAS_PATH}/{camera_id}/keys/{key_id}")


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def format_cameras(cameras: Sequence[Mapping[str, Any]]) -> str:
    if not cameras:
        return "no cameras yet: ipcai cameras create NAME"
    rows = [("id", "name", "services", "zones", "keys", "last request")]
    for camera in cameras:
        rows.append(
            (
                camera["id"],
                camera["name"],
                ",".join(s.removesuffix("-detection") for s in camera["services"]),
                str(len(camera["zones"])),
                str(len(camera["keys"])),
                (camera.get("last_seen_at") or "never")[:19],
            )
        )
    return _table(rows)


def format_camera(camera: Mapping[str, Any]) -> str:
    thresholds = ", ".join(f"{k} {v:g}" for k, v in sorted(camera["class_thresholds"].items()))
    size = [
        f"{camera['min_box_area']:g} of the frame" if camera.get("min_box_area") else "",
        f"{camera['min_box_pixels']} px" if camera.get("min_box_pixels") else "",
    ]
    lines = [
        f"{camera['name']} ({camera['id']})",
        f"  services:         {', '.join(camera['services'])}",
        f"  class thresholds: {thresholds or 'the service defaults'}",
        f"  minimum box:      {' or '.join(s for s in size if s) or 'none'}",
        f"  anchor:           {camera['anchor']}",
        f"  bound keys:       {', '.join(camera['keys']) or 'none'}",
        f"  last request:     {camera.get('last_seen_at') or 'never'}",
        f"  {plural(len(camera['zones']), 'zone')}:",
    ]
    lines += [f"    {line}" for line in format_zones(camera["zones"]).splitlines()]
    return "\n".join(lines)


def format_zones(zones: Sequence[Mapping[str, Any]]) -> str:
    if not zones:
        return "(none: every detection counts)"
    return "\n".join(
        f"{z['name']}: {z['kind']}, {plural(len(z['points']), 'point')}, "
        f"{', '.join(z.get('classes') or []) or 'all classes'}"
        for z in zones
    )
