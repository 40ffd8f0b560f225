"""Request and response shapes of the detection API, for the OpenAPI schema and docs page.

Requests are parsed by apps/detection/payloads.py (orjson, header-only image checks) for speed;
these serializers describe the same fields so the published schema matches what is accepted.
"""

from __future__ import annotations

from rest_framework import serializers

from apps.alerts.serializers import FrameEventSerializer
from apps.tenants.application_types import ApplicationType

MIN_CONFIDENCE_HELP = (
    "Only return objects scoring at least this (0 to 1). Default: the threshold configured for "
    "the service in the dashboard (0.5 unless changed)."
)


class SeedInferenceSerializer(serializers.Serializer):
    timestamp = serializers.CharField(required=False, help_text="Client timestamp (ignored).")
    request_id = serializers.IntegerField(required=False, help_text="Client request id (ignored).")
    image_base64_enc = serializers.CharField(help_text="The JPEG or PNG image, base64-encoded.")
    application_type = serializers.ChoiceField(
        choices=ApplicationType.choices,
        required=False,
        help_text="Which service to run. Default: the tenant's default service.",
    )
    min_confidence = serializers.FloatField(
        required=False, min_value=0, max_value=1, help_text=MIN_CONFIDENCE_HELP
    )


class TimingsSerializer(serializers.Serializer):
    decode = serializers.FloatField(required=False)
    queue = serializers.FloatField(required=False)
    infer = serializers.FloatField(required=False)
    postprocess = serializers.FloatField(required=False)
    total = serializers.FloatField(required=False, help_text="Time spent in the worker.")
    portal_total = serializers.FloatField(help_text="Time from arrival to answer in the portal.")


class SeedResponseSerializer(serializers.Serializer):
    width = serializers.IntegerField(help_text="Image width in pixels.")
    height = serializers.IntegerField(help_text="Image height in pixels.")
    channels = serializers.IntegerField(help_text="Colour channels of the image.")
    bbox_coords = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(), min_length=4, max_length=4),
        help_text="One `[x1, y1, x2, y2]` per object, in pixels of the original image.",
    )
    bbox_scores = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(), min_length=1, max_length=1),
        help_text="One `[score]` per object, same order as bbox_coords.",
    )
    class_names = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField(), min_length=1, max_length=1),
        help_text='One `["label"]` per object, same order as bbox_coords.',
    )
    request_id = serializers.CharField(help_text="Our id for this request (also X-Request-Id).")
    application_type = serializers.ChoiceField(choices=ApplicationType.choices)
    model = serializers.CharField(help_text="The detector that served the request.")
    timings_ms = TimingsSerializer()


SLICES_HELP = (
    "auto: also run the model on overlapping slices of the image, in one batch, and merge: "
    "small and distant objects found, at about 5x the inference cost; off: the whole image "
    "only. Default: as the service's tier (the accurate tier slices) or the camera says. A "
    "camera with include zones has only their area sliced."
)


class NativeJsonSerializer(serializers.Serializer):
    image_base64 = serializers.CharField(help_text="The JPEG or PNG image, base64-encoded.")
    min_confidence = serializers.FloatField(
        required=False, min_value=0, max_value=1, help_text=MIN_CONFIDENCE_HELP
    )
    slices = serializers.ChoiceField(choices=["auto", "off"], required=False, help_text=SLICES_HELP)


class NativeMultipartSerializer(serializers.Serializer):
    image = serializers.FileField(help_text="The JPEG or PNG image file.")
    min_confidence = serializers.FloatField(
        required=False, min_value=0, max_value=1, help_text=MIN_CONFIDENCE_HELP
    )
    slices = serializers.ChoiceField(choices=["auto", "off"], required=False, help_text=SLICES_HELP)


class SlicesSerializer(serializers.Serializer):
    requested = serializers.CharField(help_text="auto, or regions (a camera's include zones).")
    planned = serializers.IntegerField(
        help_text="Slices the image called for beside the whole image (0: too small to need "
        "them). A CPU worker runs only those where the whole image has a candidate."
    )
    count = serializers.IntegerField(help_text="Slices run beside the whole image.")
    windows = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField(), min_length=4, max_length=4),
        help_text="Each slice run, `[x1, y1, x2, y2]` in pixels of the original image.",
    )


class DetectionSerializer(serializers.Serializer):
    label = serializers.CharField(  # type: ignore[assignment]  # a field, not Field.label
        help_text="COCO class name, e.g. `person`, `dog`, `car`."
    )
    score = serializers.FloatField(help_text="Confidence from 0 to 1.")
    box = serializers.ListField(
        child=serializers.FloatField(),
        min_length=4,
        max_length=4,
        help_text="`[x1, y1, x2, y2]` in pixels of the original image.",
    )


class NativeResponseSerializer(serializers.Serializer):
    request_id = serializers.CharField()
    application_type = serializers.ChoiceField(choices=ApplicationType.choices)
    model = serializers.CharField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    channels = serializers.IntegerField()
    detections = DetectionSerializer(many=True)
    timings_ms = TimingsSerializer()
    slices = SlicesSerializer(
        required=False, help_text="Only when sliced inference ran: what it ran."
    )
    events = FrameEventSerializer(
        many=True,
        required=False,
        help_text="Camera requests only: the camera events this frame opened, updated or closed.",
    )


class DeepStackDetectionSerializer(serializers.Serializer):
    image = serializers.FileField(help_text="The JPEG or PNG image file.")
    min_confidence = serializers.FloatField(
        required=False, min_value=0, max_value=1, help_text=MIN_CONFIDENCE_HELP
    )
    api_key = serializers.CharField(
        required=False, help_text="Your API key, when the camera software cannot send a header."
    )


class DeepStackPredictionSerializer(serializers.Serializer):
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label
    confidence = serializers.FloatField()
    x_min = serializers.IntegerField()
    y_min = serializers.IntegerField()
    x_max = serializers.IntegerField()
    y_max = serializers.IntegerField()


class DeepStackResponseSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    predictions = DeepStackPredictionSerializer(many=True, help_text="Highest confidence first.")
    # CodeProject.AI's additions, which Blue Iris, Agent DVR and Home Assistant read.
    count = serializers.IntegerField(help_text="Number of predictions.")
    message = serializers.CharField(help_text='"Found person, dog..." or "No objects found".')
    inferenceMs = serializers.IntegerField(help_text="Model inference time.")
    processMs = serializers.IntegerField(help_text="Inference worker time (decode to boxes).")
    analysisRoundTripMs = serializers.IntegerField(help_text="Time inside the service.")
    moduleId = serializers.CharField()
    moduleName = serializers.CharField()
    command = serializers.CharField(help_text="detect, or custom for a named model.")
    executionProvider = serializers.CharField(help_text="CPU or GPU.")
    canUseGPU = serializers.BooleanField()
    code = serializers.IntegerField(help_text="200.")
    requestId = serializers.CharField()
    timestampUTC = serializers.CharField(help_text="RFC 1123 date.")


class DeepStackErrorSerializer(serializers.Serializer):
    success = serializers.BooleanField(help_text="Always false on errors.")
    error = serializers.CharField(help_text="What went wrong (DeepStack's text where it has one).")
    code = serializers.IntegerField(help_text="The HTTP status, as CodeProject.AI sends it.")


class CodeProjectModelListSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    models = serializers.ListField(
        child=serializers.CharField(), help_text="Custom model names this key can use."
    )
    moduleId = serializers.CharField()
    moduleName = serializers.CharField()
    command = serializers.CharField(help_text="list-custom")
    code = serializers.IntegerField()
    analysisRoundTripMs = serializers.IntegerField()


class CodeProjectVersionSerializer(serializers.Serializer):
    major = serializers.IntegerField()
    minor = serializers.IntegerField()
    patch = serializers.IntegerField()
    preRelease = serializers.CharField(allow_null=True)
    securityUpdate = serializers.BooleanField()
    build = serializers.IntegerField()
    file = serializers.CharField()
    releaseNotes = serializers.CharField()


class CodeProjectUpdateSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()
    version = CodeProjectVersionSerializer()
    current = CodeProjectVersionSerializer()
    latest = CodeProjectVersionSerializer()
    updateAvailable = serializers.BooleanField(help_text="Always false: the service self-updates.")
