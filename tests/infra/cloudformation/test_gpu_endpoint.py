"""The GPU endpoint runs the worker image with its model, scales on invocations per instance,
raises alarms on 5xx and latency, and rolls back a bad model update on those alarms."""

from __future__ import annotations

import pytest

from tests.support.cloudformation import (
    TEMPLATE_DIR,
    as_list,
    load_template,
    resources_of_type,
    text_of,
)


@pytest.fixture(scope="module")
def template() -> dict:
    return load_template(TEMPLATE_DIR / "gpu-endpoint.yaml")


def _only(template: dict, resource_type: str) -> tuple[str, dict]:
    found = resources_of_type(template, resource_type)
    assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
    return next(iter(found.items()))


def _variant(template: dict) -> dict:
    _, config = _only(template, "AWS::SageMaker::EndpointConfig")
    (variant,) = config["Properties"]["ProductionVariants"]
    return variant


def test_model_runs_the_worker_image_with_model_data_from_s3(template: dict):
    _, model = _only(template, "AWS::SageMaker::Model")
    container = model["Properties"]["PrimaryContainer"]
    assert text_of(container["Image"]).endswith("/${WorkerRepositoryName}:${WorkerImageTag}")
    assert ".dkr.ecr." in text_of(container["Image"])
    assert text_of(container["ModelDataUrl"]) == "s3://${ModelDataBucket}/${ModelDataKey}"
    env = container["Environment"]
    assert env["IPCAI_MODEL_DIR"] == "/opt/ml/model"
    assert env["IPCAI_MODEL"] == {"Ref": "ModelName"}
    assert env["IPCAI_BACKEND"] == {"Ref": "InferenceBackend"}
    assert env["PORT"] == "8080"


def test_instance_type_is_a_parameter_defaulting_to_g4dn_xlarge(template: dict):
    variant = _variant(template)
    assert variant["InstanceType"] == {"Ref": "InstanceType"}
    assert variant["InitialInstanceCount"] == {"Ref": "MinInstances"}
    parameter = template["Parameters"]["InstanceType"]
    assert parameter["Default"] == "ml.g4dn.xlarge"
    assert all(
        value.startswith(("ml.g4dn.", "ml.g5.", "ml.g6.")) for value in parameter["AllowedValues"]
    )


def test_endpoint_autoscales_on_invocations_per_instance(template: dict):
    endpoint_name, endpoint = _only(template, "AWS::SageMaker::Endpoint")
    target_name, target = _only(template, "AWS::ApplicationAutoScaling::ScalableTarget")
    _, policy = _only(template, "AWS::ApplicationAutoScaling::ScalingPolicy")

    # On by default; the switch exists only for instance-type changes (docs/DEPLOY.md).
    assert target["Condition"] == policy["Condition"]
    assert template["Conditions"][target["Condition"]] == {
        "Fn::Equals": [{"Ref": "EnableAutoscaling"}, "true"]
    }
    assert template["Parameters"]["EnableAutoscaling"]["Default"] == "true"

    target_properties = target["Properties"]
    assert target_properties["ServiceNamespace"] == "sagemaker"
    assert target_properties["ScalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
    assert target_properties["MinCapacity"] == {"Ref": "MinInstances"}
    assert target_properties["MaxCapacity"] == {"Ref": "MaxInstances"}
    # The target names this endpoint and this variant...
    assert endpoint["Properties"]["EndpointName"] == {"Ref": "EndpointName"}
    variant_name = _variant(template)["VariantName"]
    assert (
        text_of(target_properties["ResourceId"])
        == f"endpoint/${{EndpointName}}/variant/{variant_name}"
    )
    # ...and can only be registered once the endpoint exists.
    assert endpoint_name in as_list(target.get("DependsOn", []))

    policy_properties = policy["Properties"]
    assert policy_properties["PolicyType"] == "TargetTrackingScaling"
    assert policy_properties["ScalingTargetId"] == {"Ref": target_name}
    tracking = policy_properties["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["PredefinedMetricSpecification"] == {
        "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
    }
    assert tracking["TargetValue"] == {"Ref": "TargetInvocationsPerInstance"}


def _alarm_metrics(alarm: dict) -> set[str]:
    properties = alarm["Properties"]
    names = {properties.get("MetricName")}
    for query in properties.get("Metrics", []):
        if "MetricStat" in query:
            names.add(query["MetricStat"]["Metric"]["MetricName"])
    return names - {None}


def test_alarms_watch_5xx_errors_and_latency_of_this_endpoint(template: dict):
    alarms = resources_of_type(template, "AWS::CloudWatch::Alarm")
    by_metric = {metric: alarm for alarm in alarms.values() for metric in _alarm_metrics(alarm)}
    assert {"Invocation5XXErrors", "ModelLatency"} <= set(by_metric)
    variant_name = _variant(template)["VariantName"]
    for alarm in (by_metric["Invocation5XXErrors"], by_metric["ModelLatency"]):
        properties = alarm["Properties"]
        dimensions = properties.get("Dimensions") or next(
            q["MetricStat"]["Metric"]["Dimensions"]
            for q in properties["Metrics"]
            if "MetricStat" in q
        )
        assert {"Name": "EndpointName", "Value": {"Ref": "EndpointName"}} in dimensions
        assert {"Name": "VariantName", "Value": variant_name} in dimensions


def test_a_bad_model_update_rolls_back_on_the_alarms(template: dict):
    _, endpoint = _only(template, "AWS::SageMaker::Endpoint")
    deployment = endpoint["Properties"]["DeploymentConfig"]
    assert "BlueGreenUpdatePolicy" in deployment
    watched = {a["AlarmName"]["Ref"] for a in deployment["AutoRollbackConfiguration"]["Alarms"]}
    assert watched == set(resources_of_type(template, "AWS::CloudWatch::Alarm"))
    # Autoscaling's instance count survives a model update.
    assert endpoint["Properties"]["RetainAllVariantProperties"] is True


def test_outputs_name_the_endpoint(template: dict):
    assert template["Outputs"]["EndpointName"]["Value"] == {
        "Fn::GetAtt": ["Endpoint", "EndpointName"]
    }


def test_worker_container_runs_without_network_access(template: dict):
    """/invocations is unauthenticated: with network isolation the container can only be
    reached through InvokeEndpoint (IAM) and cannot reach out either."""
    _, model = _only(template, "AWS::SageMaker::Model")
    assert model["Properties"]["EnableNetworkIsolation"] is True
    assert "VpcConfig" not in model["Properties"]
