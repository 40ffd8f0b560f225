"""No client breaks: every operation of the OpenAPI schema as it was before the layout move of
issue 22 (tests/portal/data/openapi_contract_before_layout.json, reduced from the schema served
at commit 8614574) is still served with its operation id, every parameter, request body type,
response status and response field. New operations, parameters and fields may be added.
"""

from __future__ import annotations

import json
from pathlib import Path

from drf_spectacular.generators import SchemaGenerator

BEFORE = Path(__file__).parent / "data" / "openapi_contract_before_layout.json"
METHODS = {"get", "post", "put", "patch", "delete"}


def contract(schema: dict) -> dict:
    """The parts of a schema a client depends on, as sorted names."""
    operations = {}
    for path, item in schema["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            operations[f"{method.upper()} {path}"] = {
                "operationId": op.get("operationId"),
                "parameters": sorted(f"{p['in']}:{p['name']}" for p in op.get("parameters", [])),
                "requestBody": sorted(op.get("requestBody", {}).get("content", {})),
                "responses": {
                    code: sorted(r.get("content", {}))
                    for code, r in op.get("responses", {}).items()
                },
            }
    shapes = {
        name: sorted(s.get("properties", {}))
        for name, s in schema.get("components", {}).get("schemas", {}).items()
    }
    return {"operations": operations, "shapes": shapes}


def _missing(before: dict, now: dict) -> list[str]:
    gone = []
    for name, op in before["operations"].items():
        current = now["operations"].get(name)
        if current is None:
            gone.append(f"operation {name}")
            continue
        if current["operationId"] != op["operationId"]:
            gone.append(f"{name}: operationId {op['operationId']} -> {current['operationId']}")
        for field in ("parameters", "requestBody"):
            gone += [f"{name}: {field} {v}" for v in op[field] if v not in current[field]]
        for code, types in op["responses"].items():
            now_types = current["responses"].get(code)
            if now_types is None or not set(types) <= set(now_types):
                gone.append(f"{name}: response {code} {types}")
    for shape, fields in before["shapes"].items():
        now_fields = now["shapes"].get(shape)
        if now_fields is None:
            gone.append(f"shape {shape}")
        else:
            gone += [f"shape {shape}.{f}" for f in fields if f not in now_fields]
    return gone


def test_every_operation_parameter_and_field_of_the_old_schema_is_still_served():
    now = contract(SchemaGenerator().get_schema(request=None, public=True))
    assert _missing(json.loads(BEFORE.read_text()), now) == []


def test_the_contract_check_notices_a_removed_operation_and_field():
    before = json.loads(BEFORE.read_text())
    now = json.loads(BEFORE.read_text())
    now["operations"].pop("GET /api/v1/usage")
    now["shapes"]["ErrorDetail"] = [f for f in now["shapes"]["ErrorDetail"] if f != "code"]
    assert _missing(before, now) == ["operation GET /api/v1/usage", "shape ErrorDetail.code"]
