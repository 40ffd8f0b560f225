"""Every parameter is documented and constrained, so a typo fails at `create-stack` time with a
clear message instead of half-way through a deployment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.cloudformation import TEMPLATES, load_template

ENUMERATED_NAME = re.compile(r"(InstanceType|InstanceClass|NodeType|Architecture|AmiVersion)$")


def _parameters() -> list[tuple[str, str, dict]]:
    return [
        (path.name, name, parameter)
        for path in TEMPLATES
        for name, parameter in load_template(path).get("Parameters", {}).items()
    ]


PARAMETERS = _parameters()


def parameter_problems(name: str, parameter: dict) -> list[str]:
    """What is missing from one parameter's declaration ([] when nothing is)."""
    problems = []
    if len(str(parameter.get("Description", "")).strip()) < 10:
        problems.append(f"{name}: no Description")
    kind = parameter["Type"]
    allowed = parameter.get("AllowedValues")
    if kind in {"String", "CommaDelimitedList"} and not (allowed or "AllowedPattern" in parameter):
        problems.append(f"{name}: free text - give AllowedValues or AllowedPattern")
    if kind == "Number" and not (allowed or "MinValue" in parameter):
        problems.append(f"{name}: unbounded number - give MinValue or AllowedValues")
    if str(parameter.get("Default")) in {"true", "false"} and sorted(map(str, allowed or [])) != [
        "false",
        "true",
    ]:
        problems.append(f"{name}: a boolean must allow exactly 'true' and 'false'")
    if ENUMERATED_NAME.search(name) and not allowed:
        problems.append(f"{name}: an enumeration must list its AllowedValues")
    if "Default" in parameter:
        problems += _default_problems(name, parameter)
    return problems


def _default_problems(name: str, parameter: dict) -> list[str]:
    default = parameter["Default"]
    allowed = parameter.get("AllowedValues")
    if allowed and str(default) not in map(str, allowed):
        return [f"{name}: Default {default!r} is not among AllowedValues"]
    pattern = parameter.get("AllowedPattern")
    items = str(default).split(",") if parameter["Type"] == "CommaDelimitedList" else [default]
    if pattern and not all(re.fullmatch(pattern, str(item)) for item in items):
        return [f"{name}: Default {default!r} does not match AllowedPattern"]
    if parameter["Type"] == "Number":
        low, high = (
            parameter.get("MinValue", float("-inf")),
            parameter.get("MaxValue", float("inf")),
        )
        if not low <= float(default) <= high:
            return [f"{name}: Default {default} outside [{low}, {high}]"]
    return []


@pytest.mark.parametrize(
    ("template", "name", "parameter"), PARAMETERS, ids=[f"{t}:{n}" for t, n, _ in PARAMETERS]
)
def test_parameter_is_described_and_constrained(template: str, name: str, parameter: dict):
    assert parameter_problems(name, parameter) == []


@pytest.mark.parametrize(
    ("name", "parameter", "complaint"),
    [
        ("Size", {"Type": "String", "Default": "x"}, "no Description"),
        ("Size", {"Type": "String", "Description": "What size to use"}, "free text"),
        ("Count", {"Type": "Number", "Description": "How many to run"}, "unbounded number"),
        (
            "Flag",
            {"Type": "String", "Default": "true", "AllowedPattern": ".*", "Description": "On/off."},
            "boolean",
        ),
        (
            "InstanceType",
            {"Type": "String", "AllowedPattern": "ml\\..*", "Description": "Which instance"},
            "enumeration",
        ),
        (
            "Mode",
            {"Type": "String", "Default": "c", "AllowedValues": ["a", "b"], "Description": "Mode."},
            "not among AllowedValues",
        ),
        (
            "Name",
            {
                "Type": "String",
                "Default": "UP",
                "AllowedPattern": "^[a-z]+$",
                "Description": "A name",
            },
            "does not match",
        ),
    ],
)
def test_checker_rejects_an_unconstrained_parameter(name: str, parameter: dict, complaint: str):
    problems = parameter_problems(name, parameter)
    assert any(complaint in p for p in problems), problems


def test_the_aws_sample_parameters_carry_over():
    """applicationType lists the services offered; saveRequestEvents is the tenants' default."""
    portal = load_template(Path(TEMPLATES[0]).with_name("portal.yaml"))["Parameters"]
    services = portal["applicationType"]
    assert services["Default"] == "persons-detection,pets-detection,vehicles-detection"
    assert re.fullmatch(services["AllowedPattern"], "persons-detection")
    assert not re.fullmatch(services["AllowedPattern"], "faces-detection")
    assert portal["saveRequestEvents"]["AllowedValues"] == ["true", "false"]
