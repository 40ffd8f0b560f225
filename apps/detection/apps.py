from django.apps import AppConfig


class DetectionConfig(AppConfig):
    name = "apps.detection"
    label = "detection"
    verbose_name = "Detection API"

    def ready(self) -> None:
        # Keys in /k/<key>/ URLs stay out of Django's request log (it logs every 5xx path).
        from apps.detection.key_scrubbing import install_log_scrubbing

        install_log_scrubbing()
