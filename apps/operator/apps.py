from django.apps import AppConfig


class OperatorConfig(AppConfig):
    name = "apps.operator"
    label = "operator"
    verbose_name = "Operator admin"

    def ready(self) -> None:
        # The operator admin says whose it is (not "Django administration"), and its "View
        # site" link leads to the tenant dashboard.
        from django.contrib import admin

        admin.site.site_header = "IPC AI operator admin"
        admin.site.site_title = "IPC AI admin"
        admin.site.index_title = "Tenants, services, keys and usage"
        admin.site.site_url = "/"
