"""Least privilege in every template: no s3:* / sagemaker:*, no unbounded S3 or SageMaker
resources, and the portal's task roles reach exactly one endpoint and one bucket, each only as
far as its process needs (web reads, the Celery worker writes and deletes, beat has nothing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cloudformation import (
    TEMPLATE_DIR,
    TEMPLATES,
    PolicyStatement,
    least_privilege_violations,
    load_template,
    policy_statements,
)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_no_statement_is_broader_than_least_privilege(template: Path):
    statements = policy_statements(load_template(template))
    assert statements, f"{template.name}: expected IAM statements to check"
    problems = [p for s in statements for p in least_privilege_violations(s)]
    assert problems == []


@pytest.mark.parametrize(
    ("statement", "complaint"),
    [
        ({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}, "wildcard action"),
        (
            {"Effect": "Allow", "Action": ["sagemaker:*"], "Resource": "arn:x:endpoint/e"},
            "wildcard action",
        ),
        ({"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/*"}, "wildcard"),
        ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}, "unbounded resource"),
        (
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::*/*"},
            "unbounded resource",
        ),
        (
            {
                "Effect": "Allow",
                "Action": "sagemaker:InvokeEndpoint",
                "Resource": {"Fn::Sub": "arn:${AWS::Partition}:sagemaker:r:1:endpoint/*"},
            },
            "unbounded resource",
        ),
        ({"Effect": "Allow", "Action": "sagemaker:InvokeEndpoint"}, "unbounded resource"),
        ({"Effect": "Allow", "Action": "*", "Resource": "*"}, "every action"),
        ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, "NotAction"),
    ],
)
def test_checker_rejects_a_broad_statement(statement: dict, complaint: str):
    problems = least_privilege_violations(PolicyStatement("BadRole", statement))
    assert any(complaint in p for p in problems), problems


def test_checker_finds_a_broad_statement_planted_in_a_real_template():
    template = load_template(TEMPLATE_DIR / "portal.yaml")
    policy = template["Resources"]["WebTaskRole"]["Properties"]["Policies"][0]
    policy["PolicyDocument"]["Statement"].append(
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    )
    problems = [p for s in policy_statements(template) for p in least_privilege_violations(s)]
    assert any(p.startswith("WebTaskRole/") and "s3:*" in p for p in problems), problems


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/prefix/*"},
        {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Principal": "*"},
    ],
)
def test_checker_accepts_scoped_and_deny_statements(statement: dict):
    assert least_privilege_violations(PolicyStatement("Role", statement)) == []


TASK_ROLES = ("WebTaskRole", "WorkerTaskRole", "BeatTaskRole")


def _task_role_statements(*roles: str) -> list[PolicyStatement]:
    template = load_template(TEMPLATE_DIR / "portal.yaml")
    return [s for s in policy_statements(template) if s.resource in (roles or TASK_ROLES)]


def _s3_actions(role: str) -> set[str]:
    return {a for s in _task_role_statements(role) for a in s.actions if a.startswith("s3:")}


def test_portal_task_roles_invoke_only_the_configured_endpoint():
    sagemaker = [s for s in _task_role_statements() if any("sagemaker:" in a for a in s.actions)]
    assert [s.actions for s in sagemaker] == [["sagemaker:InvokeEndpoint"]]
    assert sagemaker[0].resources == [
        "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}"
        ":endpoint/${SageMakerEndpointName}"
    ]


def test_portal_task_roles_touch_only_the_archive_bucket():
    s3 = [s for s in _task_role_statements() if any(a.startswith("s3:") for a in s.actions)]
    assert s3
    for statement in s3:
        for resource in statement.resources:
            assert resource.startswith("arn:${AWS::Partition}:s3:::${ArchiveBucketName}"), resource


def test_web_tasks_read_the_archive_but_cannot_write_or_delete_it():
    """The internet-facing process: a bug or a breach there cannot erase the archive."""
    assert _s3_actions("WebTaskRole") == {"s3:GetObject", "s3:ListBucket"}


def test_the_celery_worker_archives_and_expires_but_never_detects():
    assert _s3_actions("WorkerTaskRole") == {
        "s3:PutObject",
        "s3:GetObject",
        "s3:DeleteObject",
        "s3:ListBucket",
    }
    actions = {a for s in _task_role_statements("WorkerTaskRole") for a in s.actions}
    assert not any(a.startswith("sagemaker:") for a in actions)


def test_beat_has_no_aws_permissions():
    assert _task_role_statements("BeatTaskRole") == []


def test_each_process_runs_with_its_own_role():
    template = load_template(TEMPLATE_DIR / "portal.yaml")
    tasks = template["Resources"]
    roles = {
        name: tasks[name]["Properties"]["TaskRoleArn"]["Fn::GetAtt"][0]
        for name in (
            "PortalTaskDefinition",
            "CeleryWorkerTaskDefinition",
            "CeleryBeatTaskDefinition",
        )
    }
    assert roles == {
        "PortalTaskDefinition": "WebTaskRole",
        "CeleryWorkerTaskDefinition": "WorkerTaskRole",
        "CeleryBeatTaskDefinition": "BeatTaskRole",
    }


def test_gpu_endpoint_role_reads_only_the_model_artifact():
    template = load_template(TEMPLATE_DIR / "gpu-endpoint.yaml")
    s3 = [s for s in policy_statements(template) if any(a.startswith("s3:") for a in s.actions)]
    assert [(s.actions, s.resources) for s in s3] == [
        (["s3:GetObject"], ["arn:${AWS::Partition}:s3:::${ModelDataBucket}/${ModelDataKey}"])
    ]
