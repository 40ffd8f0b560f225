from django.apps import AppConfig


class ArchiveConfig(AppConfig):
    name = "apps.archive"
    # The label this app had as apps/events: its tables (events_archivedevent), its migration
    # history and the admin's URLs stay as they are; no table renamed, no row copied.
    label = "events"
    verbose_name = "Request archive"
