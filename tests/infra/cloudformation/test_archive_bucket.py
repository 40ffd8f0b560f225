"""The archive bucket is private, encrypted, TLS-only and expires what it holds."""

from __future__ import annotations

import pytest

from tests.support.cloudformation import (
    TEMPLATE_DIR,
    as_list,
    load_template,
    policy_statements,
    resources_of_type,
    text_of,
)


@pytest.fixture(scope="module")
def template() -> dict:
    return load_template(TEMPLATE_DIR / "archive-bucket.yaml")


@pytest.fixture(scope="module")
def bucket(template: dict) -> dict:
    (bucket,) = resources_of_type(template, "AWS::S3::Bucket").values()
    return bucket["Properties"]


def test_all_public_access_is_blocked(bucket: dict):
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    # ACLs disabled altogether: objects can never be made public one by one.
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]


def test_objects_are_encrypted_at_rest(bucket: dict):
    rules = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    algorithms = {rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] for rule in rules}
    assert algorithms and algorithms <= {"AES256", "aws:kms", "aws:kms:dsse"}


def test_bucket_policy_refuses_requests_without_tls(template: dict):
    statements = policy_statements(template)
    insecure_denials = [
        s.statement
        for s in statements
        if s.statement["Effect"] == "Deny"
        and s.statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
    ]
    assert len(insecure_denials) == 1
    denial = insecure_denials[0]
    assert denial["Principal"] == "*"
    assert "s3:*" in as_list(denial["Action"])
    covered = {text_of(r) for r in as_list(denial["Resource"])}
    # Both the bucket itself (listing) and every object in it.
    assert covered == {"${ArchiveBucket.Arn}", "${ArchiveBucket.Arn}/*"}


def test_bucket_policy_grants_nobody_anything(template: dict):
    assert [s.statement for s in policy_statements(template) if s.allows] == []


def test_lifecycle_expires_events_after_the_retention_parameter(template: dict, bucket: dict):
    rules = bucket["LifecycleConfiguration"]["Rules"]
    expiring = [r for r in rules if "ExpirationInDays" in r]
    assert len(expiring) == 1
    rule = expiring[0]
    assert rule["Status"] == "Enabled"
    assert rule["ExpirationInDays"] == {"Ref": "RetentionDays"}
    assert "Prefix" not in rule and "Filter" not in rule, "retention must cover the whole bucket"
    retention = template["Parameters"]["RetentionDays"]
    assert retention["Type"] == "Number" and retention["MinValue"] >= 1


def test_versioning_is_switched_by_the_parameter(template: dict, bucket: dict):
    condition, when_on, when_off = bucket["VersioningConfiguration"]["Fn::If"]
    assert template["Conditions"][condition] == {
        "Fn::Equals": [{"Ref": "EnableVersioning"}, "true"]
    }
    assert when_on == {"Status": "Enabled"}
    assert when_off == {"Ref": "AWS::NoValue"}


def test_bucket_outlives_the_stack(template: dict):
    (bucket,) = resources_of_type(template, "AWS::S3::Bucket").values()
    assert bucket["DeletionPolicy"] == "Retain"
    assert bucket["UpdateReplacePolicy"] == "Retain"
