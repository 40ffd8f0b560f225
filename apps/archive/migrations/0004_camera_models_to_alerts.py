"""Camera events and webhooks move to apps/alerts: state only, their tables stay (events_*)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0001_initial"),
        ("events", "0003_camera_confirmation"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="cameraevent",
                    name="camera",
                ),
                migrations.RemoveField(
                    model_name="cameraevent",
                    name="tenant",
                ),
                migrations.RemoveField(
                    model_name="webhookdelivery",
                    name="event",
                ),
                migrations.RemoveField(
                    model_name="deliveryattempt",
                    name="delivery",
                ),
                migrations.RemoveField(
                    model_name="webhookdelivery",
                    name="endpoint",
                ),
                migrations.RemoveField(
                    model_name="webhookendpoint",
                    name="tenant",
                ),
                migrations.DeleteModel(
                    name="CameraAlerting",
                ),
                migrations.DeleteModel(
                    name="CameraEvent",
                ),
                migrations.DeleteModel(
                    name="DeliveryAttempt",
                ),
                migrations.DeleteModel(
                    name="WebhookDelivery",
                ),
                migrations.DeleteModel(
                    name="WebhookEndpoint",
                ),
            ],
            database_operations=[],
        ),
    ]
