from django.apps import AppConfig


class DetectionConfig(AppConfig):
    name = "apps.detection"
    label = "detection"
    verbose_name = "Detection API"
