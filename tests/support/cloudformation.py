"""Read the CloudFormation templates the way CloudFormation does, and judge their IAM statements.

Templates are parsed with cfn-lint's own YAML decoder, which turns the short intrinsic tags
(`!Ref`, `!Sub`, `!GetAtt`, `!If`...) into their long form ({"Ref": ...}, {"Fn::Sub": ...}), so
tests look at exactly the structure CloudFormation deploys. The least-privilege rules live here
(not in one test) so the same checker runs on every template and on deliberately bad statements.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml

from harness.processes import REPO_ROOT

TEMPLATE_DIR = REPO_ROOT / "infra" / "cloudformation"
TEMPLATES = sorted(TEMPLATE_DIR.glob("*.yaml"))

# Services whose permissions must always name their resources: the archive (S3) and the GPU
# endpoint (SageMaker) are the data and the money.
SCOPED_SERVICES = ("s3", "sagemaker")
POLICY_RESOURCE_TYPES = {
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::S3::BucketPolicy",
}


def load_template(path: Path) -> dict[str, Any]:
    """The template as CloudFormation sees it (intrinsic tags in long form)."""
    return cfn_yaml.load(str(path))


def run_cfn_lint(*paths: Path) -> subprocess.CompletedProcess[str]:
    """Run the pinned cfn-lint on the templates, informational findings included."""
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    return subprocess.run(
        [str(cfn_lint), "--include-checks", "I", "--format", "parseable", "--", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        name: resource
        for name, resource in template.get("Resources", {}).items()
        if resource["Type"] == resource_type
    }


def text_of(value: Any) -> str:
    """A readable string for a template value: literal strings and `!Sub` templates verbatim,
    `!Ref X` as ${X}, `!GetAtt A.B` as ${A.B}; used to inspect ARNs built from parameters."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Fn::Sub":
            return argument if isinstance(argument, str) else argument[0]
        if function == "Ref":
            return "${" + argument + "}"
        if function == "Fn::GetAtt":
            return "${" + ".".join(argument) + "}" if isinstance(argument, list) else argument
    return repr(value)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def condition_branches(value: Any) -> Iterator[Any]:
    """Every value a (possibly conditional) entry can take; AWS::NoValue means no entry."""
    if isinstance(value, dict) and set(value) == {"Fn::If"}:
        _condition, when_true, when_false = value["Fn::If"]
        yield from condition_branches(when_true)
        yield from condition_branches(when_false)
    elif value != {"Ref": "AWS::NoValue"}:
        yield value


@dataclass(frozen=True)
class PolicyStatement:
    """One IAM statement and where it was found."""

    resource: str
    statement: dict[str, Any]

    @property
    def allows(self) -> bool:
        return self.statement.get("Effect") == "Allow"

    @property
    def actions(self) -> list[str]:
        return [a for a in as_list(self.statement.get("Action", [])) if isinstance(a, str)]

    @property
    def resources(self) -> list[str]:
        return [text_of(r) for r in as_list(self.statement.get("Resource", []))]


def _documents(resource: dict[str, Any]) -> Iterator[dict[str, Any]]:
    properties = resource.get("Properties", {})
    if "PolicyDocument" in properties:
        yield properties["PolicyDocument"]
    for policy in properties.get("Policies", []):
        for branch in condition_branches(policy):
            yield branch["PolicyDocument"]


def policy_statements(template: dict[str, Any]) -> list[PolicyStatement]:
    """Every permission statement in the template (role policies, managed and inline policies,
    bucket policies), each branch of a conditional statement included. Trust policies are not
    permissions and are left out."""
    found = []
    for name, resource in template.get("Resources", {}).items():
        if resource["Type"] not in POLICY_RESOURCE_TYPES:
            continue
        for document in _documents(resource):
            for entry in as_list(document["Statement"]):
                for statement in condition_branches(entry):
                    found.append(PolicyStatement(name, statement))
    return found


def _service(action: str) -> str:
    return action.split(":", 1)[0].lower() if ":" in action else action


def _resource_is_unbounded(service: str, resource: str) -> bool:
    """True for "*" and for ARNs whose resource part is only a wildcard (any bucket, any
    endpoint). An object wildcard inside one named bucket (bucket/prefix/*) is bounded."""
    if resource.strip() == "*":
        return True
    if service == "s3":
        bucket = resource.split(":::", 1)[-1]
        return bucket.startswith("*")
    if service == "sagemaker":
        resource_part = resource.rsplit(":", 1)[-1]
        return resource_part in {"*", "endpoint/*"} or resource_part.endswith("/*")
    return False


def least_privilege_violations(statement: PolicyStatement) -> list[str]:
    """Why an Allow statement is broader than this project permits, or [] when it is not.

    Rules: no "*" action; no wildcard action for S3 or SageMaker (s3:*, sagemaker:*, s3:Get*);
    no NotAction / NotResource in an Allow; S3 and SageMaker actions only on named resources
    (never Resource "*", any bucket or any endpoint)."""
    if not statement.allows:
        return []
    where = f"{statement.resource}/{statement.statement.get('Sid', '?')}"
    problems = []
    for key in ("NotAction", "NotResource"):
        if key in statement.statement:
            problems.append(f"{where}: Allow with {key} grants everything not listed")
    scoped_services = set()
    for action in statement.actions:
        service = _service(action)
        if action.strip() == "*":
            problems.append(f"{where}: allows every action ('*')")
        elif service in SCOPED_SERVICES:
            scoped_services.add(service)
            if "*" in action or "?" in action:
                problems.append(f"{where}: wildcard action {action!r}")
    for service in sorted(scoped_services):
        for resource in statement.resources or ["<no Resource>"]:
            if resource == "<no Resource>" or _resource_is_unbounded(service, resource):
                problems.append(f"{where}: {service} actions on unbounded resource {resource!r}")
    return problems
