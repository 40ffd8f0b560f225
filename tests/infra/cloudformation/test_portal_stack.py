"""The portal stack wires the settings the portal reads, keeps secrets in Secrets Manager, serves
HTTPS only, and keeps the database and Redis private and encrypted."""

from __future__ import annotations

import re

import pytest

from harness.processes import REPO_ROOT
from tests.support.cloudformation import (
    TEMPLATE_DIR,
    as_list,
    load_template,
    policy_statements,
    resources_of_type,
    text_of,
)

SECRET_NAMES = {"DATABASE_URL", "REDIS_URL", "DJANGO_SECRET_KEY", "IPCAI_API_KEY_HASH_KEY"}


@pytest.fixture(scope="module")
def template() -> dict:
    return load_template(TEMPLATE_DIR / "portal.yaml")


def _containers(template: dict) -> dict[str, dict]:
    """Container definitions by container name, across every task definition."""
    return {
        container["Name"]: container
        for task in resources_of_type(template, "AWS::ECS::TaskDefinition").values()
        for container in task["Properties"]["ContainerDefinitions"]
    }


def _environment(container: dict) -> dict[str, object]:
    return {item["Name"]: item["Value"] for item in container.get("Environment", [])}


def _secrets(container: dict) -> dict[str, object]:
    return {item["Name"]: item["ValueFrom"] for item in container.get("Secrets", [])}


def _command(container: dict) -> str:
    command = container.get("Command")
    if isinstance(command, dict):  # !Split [" ", !Sub "..."]
        return text_of(command["Fn::Split"][1])
    return " ".join(command or [])


def test_web_celery_worker_and_beat_run_from_the_portal_image(template: dict):
    containers = _containers(template)
    assert {"web", "celery-worker", "celery-beat"} <= set(containers)
    for container in containers.values():
        assert text_of(container["Image"]).endswith("/${PortalRepositoryName}:${PortalImageTag}")
    assert "Command" not in containers["web"], "web runs the image's gunicorn command"
    worker_command = _command(containers["celery-worker"])
    assert worker_command.startswith("celery -A portal worker")
    # Without them the worker exits when Redis restarts (see scripts/run-local.sh).
    assert {"--without-gossip", "--without-mingle"} <= set(worker_command.split())
    assert _command(containers["celery-beat"]).startswith("celery -A portal beat")
    for task in resources_of_type(template, "AWS::ECS::TaskDefinition").values():
        assert task["Properties"]["RequiresCompatibilities"] == ["FARGATE"]


@pytest.mark.parametrize("name", ["web", "celery-worker"])
def test_portal_processes_get_every_production_setting(template: dict, name: str):
    container = _containers(template)[name]
    env, secrets = _environment(container), _secrets(container)
    assert {"IPCAI_SAGEMAKER_ENDPOINT", "IPCAI_ARCHIVE_URL"} <= set(env)
    assert {"DJANGO_ALLOWED_HOSTS", "DJANGO_DEBUG"} <= set(env)
    assert env["DJANGO_DEBUG"] == "false"
    assert env["IPCAI_SAGEMAKER_ENDPOINT"] == {"Ref": "SageMakerEndpointName"}
    assert text_of(env["IPCAI_ARCHIVE_URL"]) == "s3://${ArchiveBucketName}/${ArchivePrefix}"
    assert secrets["REDIS_URL"] == {"Ref": "RedisUrl"}
    assert set(secrets) >= SECRET_NAMES


def test_beat_gets_the_settings_its_periodic_tasks_need(template: dict):
    container = _containers(template)["celery-beat"]
    assert {"IPCAI_ARCHIVE_URL", "DJANGO_DEBUG"} <= set(_environment(container))
    assert {"DATABASE_URL", "REDIS_URL", "DJANGO_SECRET_KEY"} <= set(_secrets(container))


def test_secrets_never_travel_as_plain_environment(template: dict):
    for name, container in _containers(template).items():
        leaked = SECRET_NAMES & set(_environment(container))
        assert not leaked, f"{name} puts {leaked} in plain Environment"
        for value in _environment(container).values():
            assert "resolve:secretsmanager" not in text_of(value)


def test_task_secrets_come_from_secrets_manager_and_only_those_are_readable(template: dict):
    secret_resources = set(resources_of_type(template, "AWS::SecretsManager::Secret"))
    referenced = {
        value["Ref"]
        for container in _containers(template).values()
        for value in _secrets(container).values()
    }
    assert referenced <= secret_resources
    readable = {
        resource["Ref"]
        for s in policy_statements(template)
        if s.resource == "TaskExecutionRole" and "secretsmanager:GetSecretValue" in s.actions
        for resource in as_list(s.statement["Resource"])
    }
    # ECS can read every secret it injects, and nothing else (DatabasePassword stays with RDS).
    assert readable == referenced


def test_every_portal_setting_the_stack_sets_is_read_by_the_portal(template: dict):
    """A renamed or misspelt variable would silently fall back to the local default."""
    sources = "\n".join(
        path.read_text()
        for folder in ("portal", "apps")
        for path in (REPO_ROOT / folder).rglob("*.py")
    )
    names = {
        name
        for container in _containers(template).values()
        for name in [*_environment(container), *_secrets(container)]
        if re.match(r"(IPCAI|DJANGO|GUNICORN)_|(DATABASE|REDIS)_URL$", name)
    }
    unread = sorted(n for n in names if f'"{n}"' not in sources and f"'{n}'" not in sources)
    assert unread == []


def test_database_is_private_encrypted_and_password_comes_from_secrets_manager(template: dict):
    (database,) = resources_of_type(template, "AWS::RDS::DBInstance").values()
    properties = database["Properties"]
    assert properties["Engine"] == "postgres"
    assert properties["PubliclyAccessible"] is False
    assert properties["StorageEncrypted"] is True
    assert properties["DBInstanceClass"] == {"Ref": "DBInstanceClass"}
    assert template["Parameters"]["DBInstanceClass"]["Default"] == "db.t4g.micro"
    assert text_of(properties["MasterUserPassword"]).startswith(
        "{{resolve:secretsmanager:${DatabasePassword}:SecretString:password}}"
    )
    assert database["DeletionPolicy"] == "Snapshot"
    # DATABASE_URL carries the same generated password and requires TLS.
    url = text_of(template["Resources"]["DatabaseUrl"]["Properties"]["SecretString"])
    assert "{{resolve:secretsmanager:${DatabasePassword}:SecretString:password}}" in url
    assert url.startswith("postgres://") and url.endswith("?sslmode=require")


def test_redis_is_encrypted_in_transit_and_at_rest_and_needs_its_auth_token(template: dict):
    (redis,) = resources_of_type(template, "AWS::ElastiCache::ReplicationGroup").values()
    assert redis["Properties"]["TransitEncryptionEnabled"] is True
    assert redis["Properties"]["AtRestEncryptionEnabled"] is True
    token = "{{resolve:secretsmanager:${RedisAuthToken}}}"
    assert text_of(redis["Properties"]["AuthToken"]) == token
    generated = template["Resources"]["RedisAuthToken"]["Properties"]["GenerateSecretString"]
    assert 16 <= generated["PasswordLength"] <= 128  # ElastiCache's AUTH token bounds
    assert generated["ExcludePunctuation"] is True  # the token sits inside a URL
    # REDIS_URL carries the same token, over TLS with certificate checks.
    url = text_of(template["Resources"]["RedisUrl"]["Properties"]["SecretString"])
    assert url.startswith(f"rediss://:{token}@${{Redis.PrimaryEndPoint.Address}}:")
    assert url.endswith("?ssl_cert_reqs=required")
    assert template["Parameters"]["CacheNodeType"]["Default"] == "cache.t4g.micro"


def _ingress_sources(template: dict, group: str) -> list:
    rules = template["Resources"][group]["Properties"]["SecurityGroupIngress"]
    return [(r["FromPort"], r.get("SourceSecurityGroupId", r.get("CidrIp"))) for r in rules]


def test_only_the_load_balancer_faces_the_internet(template: dict):
    assert _ingress_sources(template, "DatabaseSecurityGroup") == [
        (5432, {"Ref": "ServiceSecurityGroup"})
    ]
    assert _ingress_sources(template, "CacheSecurityGroup") == [
        (6379, {"Ref": "ServiceSecurityGroup"})
    ]
    assert _ingress_sources(template, "ServiceSecurityGroup") == [
        (8000, {"Ref": "LoadBalancerSecurityGroup"})
    ]
    for service in resources_of_type(template, "AWS::ECS::Service").values():
        network = service["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]
        assert network["AssignPublicIp"] == "DISABLED"


def test_load_balancer_serves_https_with_the_certificate_and_redirects_http(template: dict):
    listeners = resources_of_type(template, "AWS::ElasticLoadBalancingV2::Listener")
    by_port = {
        listener["Properties"]["Port"]: listener["Properties"] for listener in listeners.values()
    }
    assert set(by_port) == {443, 80}
    https = by_port[443]
    assert https["Protocol"] == "HTTPS"
    assert https["Certificates"] == [{"CertificateArn": {"Ref": "CertificateArn"}}]
    assert https["SslPolicy"].startswith("ELBSecurityPolicy-TLS13-1-2")
    (redirect,) = by_port[80]["DefaultActions"]
    assert redirect["Type"] == "redirect"
    assert redirect["RedirectConfig"]["Protocol"] == "HTTPS"


def test_exactly_one_celery_beat_runs_even_during_a_deployment(template: dict):
    services = resources_of_type(template, "AWS::ECS::Service")
    beat = services["CeleryBeatService"]["Properties"]
    assert beat["TaskDefinition"] == {"Ref": "CeleryBeatTaskDefinition"}
    assert beat["DesiredCount"] == 1
    assert beat["DeploymentConfiguration"]["MaximumPercent"] == 100


def test_logs_go_to_the_stack_log_group(template: dict):
    for name, container in _containers(template).items():
        logs = container["LogConfiguration"]
        assert logs["LogDriver"] == "awslogs", name
        assert logs["Options"]["awslogs-group"] == {"Ref": "LogGroup"}, name


def test_outputs_give_api_url_bucket_and_endpoint(template: dict):
    outputs = template["Outputs"]
    assert {"ApiUrl", "ArchiveBucketName", "EndpointName"} <= set(outputs)
    _condition, with_host, without_host = outputs["ApiUrl"]["Value"]["Fn::If"]
    assert text_of(with_host) == "https://${PortalHostname}"
    assert text_of(without_host) == "https://${LoadBalancer.DNSName}"


def _queues(container: dict) -> list[str]:
    words = _command(container).split()
    return words[words.index("-Q") + 1].split(",") if "-Q" in words else []


def test_webhook_deliveries_run_on_their_own_queue_and_worker(template: dict):
    """Security review (issue 31, High): a tenant's slow receiver must never hold the worker
    that archives requests, drains usage and builds exports."""
    containers = _containers(template)
    # The names portal/settings.py derives when IPCAI_CELERY_QUEUE is not set (the stack's case).
    assert _queues(containers["celery-worker"]) == ["celery"]
    assert _queues(containers["celery-webhooks"]) == ["celery-webhooks"]
    hooks = containers["celery-webhooks"]
    assert {"--without-gossip", "--without-mingle"} <= set(_command(hooks).split())
    assert _environment(hooks) == _environment(containers["celery-worker"])
    assert _secrets(hooks) == _secrets(containers["celery-worker"])


def test_payload_links_point_at_the_public_address(template: dict):
    for name in ("web", "celery-worker", "celery-webhooks"):
        url = _environment(_containers(template)[name])["IPCAI_PUBLIC_URL"]
        assert "127.0.0.1" not in text_of(url) and "https://" in text_of(url)
