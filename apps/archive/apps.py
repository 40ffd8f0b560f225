from django.apps import AppConfig


class ArchiveConfig(AppConfig):
    name = "apps.archive"
    # The label it had before the layout move: its tables (events_archivedevent), migration
    # history and admin URLs stay as they are; no table renamed, no row copied.
    label = "events"
    verbose_name = "Request archive"
