"""What faces the internet is recorded and can be filtered: the load balancer writes access logs
to a private bucket, and an optional WAF web ACL (AWS managed rules and a per-IP rate rule)
sits in front of it without blocking camera images."""

from __future__ import annotations

import pytest

from tests.support.cloudformation import (
    TEMPLATE_DIR,
    condition_branches,
    load_template,
    resources_of_type,
    text_of,
)


@pytest.fixture(scope="module")
def template() -> dict:
    return load_template(TEMPLATE_DIR / "portal.yaml")


def _attributes(template: dict) -> dict[str, object]:
    balancer = template["Resources"]["LoadBalancer"]["Properties"]
    return {item["Key"]: item["Value"] for item in balancer["LoadBalancerAttributes"]}


def test_load_balancer_writes_access_logs_to_its_own_private_bucket(template: dict):
    attributes = _attributes(template)
    assert attributes["access_logs.s3.enabled"] == "true"
    assert attributes["access_logs.s3.bucket"] == {"Ref": "AccessLogsBucket"}
    bucket = template["Resources"]["AccessLogsBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    # Load balancer logs can only be written with SSE-S3.
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    (expiry,) = bucket["LifecycleConfiguration"]["Rules"]
    assert expiry["ExpirationInDays"] == {"Ref": "AccessLogRetentionDays"}
    # The balancer is created only once it may write there.
    assert template["Resources"]["LoadBalancer"]["DependsOn"] == "AccessLogsBucketPolicy"


def test_only_elastic_load_balancing_may_write_the_access_logs(template: dict):
    policy = template["Resources"]["AccessLogsBucketPolicy"]["Properties"]["PolicyDocument"]
    allows = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    (write,) = allows
    assert write["Action"] == "s3:PutObject"
    prefix = f"/{_attributes(template)['access_logs.s3.prefix']}/AWSLogs/${{AWS::AccountId}}/*"
    assert text_of(write["Resource"]) == "${AccessLogsBucket.Arn}" + prefix
    principals = list(condition_branches(write["Principal"]))
    assert {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"} in principals
    (account,) = [p for p in principals if "AWS" in p]
    assert text_of(account["AWS"]).endswith(":iam::${ElbAccount}:root")
    # Every region with an ELB log account is in the condition that selects it, and back.
    accounts = template["Mappings"]["ElbLogAccounts"]
    conditions = template["Conditions"]
    regions = {
        equals["Fn::Equals"][1]
        for name in ("ElbLogAccountRegionA", "ElbLogAccountRegionB", "ElbLogAccountRegionC")
        for equals in conditions[name]["Fn::Or"]
    }
    assert regions == set(accounts)
    assert all(len(entry["Account"]) == 12 for entry in accounts.values())


def test_waf_is_off_by_default_and_guards_the_load_balancer_when_on(template: dict):
    assert template["Parameters"]["EnableWaf"]["Default"] == "false"
    acls = resources_of_type(template, "AWS::WAFv2::WebACL")
    associations = resources_of_type(template, "AWS::WAFv2::WebACLAssociation")
    assert [r["Condition"] for r in [*acls.values(), *associations.values()]] == [
        "WafEnabled",
        "WafEnabled",
    ]
    (association,) = associations.values()
    assert association["Properties"]["ResourceArn"] == {"Ref": "LoadBalancer"}
    assert template["Conditions"]["WafEnabled"] == {"Fn::Equals": [{"Ref": "EnableWaf"}, "true"]}


def _rules(template: dict) -> dict[str, dict]:
    (acl,) = resources_of_type(template, "AWS::WAFv2::WebACL").values()
    return {rule["Name"]: rule for rule in acl["Properties"]["Rules"]}


def test_waf_runs_aws_managed_rule_groups_and_a_per_ip_rate_rule(template: dict):
    rules = _rules(template)
    managed = {
        rule["Statement"]["ManagedRuleGroupStatement"]["Name"]
        for rule in rules.values()
        if "ManagedRuleGroupStatement" in rule["Statement"]
    }
    assert {
        "AWSManagedRulesAmazonIpReputationList",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesCommonRuleSet",
    } <= managed
    (rate,) = [r for r in rules.values() if "RateBasedStatement" in r["Statement"]]
    assert rate["Action"] == {"Block": {}}
    assert rate["Statement"]["RateBasedStatement"] == {
        "AggregateKeyType": "IP",
        "Limit": {"Ref": "WafRateLimit"},
    }
    priorities = [rule["Priority"] for rule in rules.values()]
    assert len(set(priorities)) == len(priorities)


def test_waf_does_not_block_camera_images_by_body_size(template: dict):
    """The common rule set blocks bodies over 8 KB; a camera frame is 100-500 KB."""
    common = _rules(template)["common-rules"]["Statement"]["ManagedRuleGroupStatement"]
    overrides = {o["Name"]: o["ActionToUse"] for o in common["RuleActionOverrides"]}
    assert overrides["SizeRestrictions_BODY"] == {"Count": {}}


def test_the_web_tasks_trust_forwarded_headers_only_from_the_load_balancer(template: dict):
    tasks = resources_of_type(template, "AWS::ECS::TaskDefinition")
    web = next(
        c
        for task in tasks.values()
        for c in task["Properties"]["ContainerDefinitions"]
        if c["Name"] == "web"
    )
    env = {item["Name"]: item["Value"] for item in web["Environment"]}
    assert env["DJANGO_BEHIND_TLS_PROXY"] == "true"
    # Private ranges only: the service security group admits the load balancer alone.
    assert env["IPCAI_TRUSTED_PROXIES"].split(",") == [
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
    ]
    assert env["IPCAI_ADMIN_ALLOWED_NETWORKS"] == {"Ref": "AdminAllowedCidrs"}
    assert template["Parameters"]["AdminAllowedCidrs"]["Default"] == ""
