"""The inference clients name the model: `model=` in the custom attributes, and on SageMaker
the production variant that serves it (TargetVariant), checked by botocore's Stubber against
the real API model (the managed runtime cannot run here)."""

from __future__ import annotations

import boto3
from botocore.stub import Stubber

from apps.detection.inference import SageMakerInferenceClient, custom_attributes
from tests.apps.detection.test_inference import expected_call, sagemaker_answer

ANSWER = {
    "width": 2,
    "height": 2,
    "channels": 3,
    "bbox_coords": [],
    "bbox_scores": [],
    "class_names": [],
    "model": "deimv2_femto",
}


def test_the_model_rides_in_the_custom_attributes_only_when_named():
    assert (
        custom_attributes("pets-detection", 0.5)
        == "application_type=pets-detection,min_confidence=0.5"
    )
    assert custom_attributes("pets-detection", 0.5, "alpha_pets") == (
        "application_type=pets-detection,min_confidence=0.5,model=alpha_pets"
    )


def test_a_model_on_its_own_variant_is_sent_there():
    runtime = boto3.client(
        "sagemaker-runtime",
        region_name="eu-west-1",
        aws_access_key_id="t",
        aws_secret_access_key="t",
    )
    client = SageMakerInferenceClient(
        "ipcai-endpoint", client=runtime, variants={"deimv2_femto": "accurate"}
    )
    attributes = "application_type=persons-detection,min_confidence=0.3"
    with Stubber(runtime) as stubber:
        stubber.add_response(
            "invoke_endpoint",
            sagemaker_answer(ANSWER),
            {
                **expected_call(),
                "CustomAttributes": f"{attributes},model=deimv2_femto",
                "TargetVariant": "accurate",
            },
        )
        stubber.add_response(  # a model without a variant of its own: no TargetVariant
            "invoke_endpoint",
            sagemaker_answer(ANSWER),
            {**expected_call(), "CustomAttributes": f"{attributes},model=yolox_nano"},
        )
        body = b"\xff\xd8\xffjpeg"
        client.detect(body, "image/jpeg", "persons-detection", 0.3, model="deimv2_femto")
        client.detect(body, "image/jpeg", "persons-detection", 0.3, model="yolox_nano")
        stubber.assert_no_pending_responses()
