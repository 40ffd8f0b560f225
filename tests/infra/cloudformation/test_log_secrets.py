"""Keys in the edge's logs (security review, issue 31, Medium 2): cameras that cannot send a
header put the API key in the path (`/k/<key>/...`) and snapshot links carry a `?token=`, so
the load balancer's access logs hold working credentials, and the WAF's sampled requests
show the `x-api-key` header. The choice made (docs/SECURITY.md): the log bucket is a secret
store - objects readable only by the named operator role (or the account root), kept two
weeks by default - and the WAF keeps no sampled requests."""

from __future__ import annotations

import pytest

from tests.support.cloudformation import TEMPLATE_DIR, load_template, resources_of_type


@pytest.fixture(scope="module")
def template() -> dict:
    return load_template(TEMPLATE_DIR / "portal.yaml")


def test_access_logs_are_kept_briefly(template: dict):
    retention = template["Parameters"]["AccessLogRetentionDays"]
    assert retention["Default"] <= 14 and retention["MaxValue"] <= 30


def test_only_the_operator_role_may_read_the_access_logs(template: dict):
    policy = template["Resources"]["AccessLogsBucketPolicy"]["Properties"]["PolicyDocument"]
    (deny,) = [s for s in policy["Statement"] if s.get("Sid") == "OnlyTheLogReaderReads"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*"
    assert "s3:GetObject" in deny["Action"]
    readers = deny["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
    assert any("AccessLogReaderRoleArn" in str(r) for r in readers)
    assert "AccessLogReaderRoleArn" in template["Parameters"]


def test_the_waf_keeps_no_sampled_requests(template: dict):
    for acl in resources_of_type(template, "AWS::WAFv2::WebACL").values():
        configs = [acl["Properties"]["VisibilityConfig"]] + [
            rule["VisibilityConfig"] for rule in acl["Properties"]["Rules"]
        ]
        assert all(c["SampledRequestsEnabled"] is False for c in configs)
        assert all(c["CloudWatchMetricsEnabled"] is True for c in configs)  # counts stay
