from django.apps import AppConfig


class CamerasConfig(AppConfig):
    name = "apps.cameras"
    label = "cameras"
    verbose_name = "Cameras"

    def ready(self) -> None:
        from apps.cameras import signals  # noqa: F401  (config cache invalidation on every save)
