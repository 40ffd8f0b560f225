"""Usage rows move to apps/usage: state only, their tables stay (detection_*)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("usage", "0001_initial"),
        ("detection", "0006_usageevent_request_id_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="usageevent",
                    name="api_key",
                ),
                migrations.RemoveField(
                    model_name="usageevent",
                    name="tenant",
                ),
                migrations.DeleteModel(
                    name="DailyUsage",
                ),
                migrations.DeleteModel(
                    name="UsageEvent",
                ),
            ],
            database_operations=[],
        ),
    ]
