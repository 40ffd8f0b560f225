"""Camera events and webhooks, moved here from the events app: state only, the tables keep their
names (events_*), so no row is copied."""

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

import apps.alerts.models

MOVED = ["cameraalerting", "cameraevent", "webhookendpoint", "webhookdelivery", "deliveryattempt"]


def _relabel(apps, schema_editor, old: str, new: str) -> None:
    """Content types (and so permissions, admin history) follow the models to their app."""
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not content_type.objects.filter(app_label=new, model=model).exists():
            content_type.objects.filter(app_label=old, model=model).update(app_label=new)


def forwards(apps, schema_editor) -> None:
    _relabel(apps, schema_editor, "events", "alerts")


def backwards(apps, schema_editor) -> None:
    _relabel(apps, schema_editor, "alerts", "events")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("events", "0003_camera_confirmation"),
        ("cameras", "0001_initial"),
        ("tenants", "0005_apikey_scopes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="CameraAlerting",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("enabled", models.BooleanField(default=True)),
                        ("labels", models.JSONField(blank=True, default=list)),
                        ("timeout_s", models.FloatField(default=3.0)),
                        ("cooldown_s", models.FloatField(default=0.0)),
                        ("stationary_after_s", models.FloatField(default=30.0)),
                        ("confirm_hits", models.PositiveSmallIntegerField(default=3)),
                        ("confirm_window", models.PositiveSmallIntegerField(default=5)),
                        (
                            "camera",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="alerting",
                                to="cameras.camera",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "events_cameraalerting",
                    },
                ),
                migrations.CreateModel(
                    name="CameraEvent",
                    fields=[
                        (
                            "id",
                            models.UUIDField(
                                default=uuid.uuid4,
                                editable=False,
                                primary_key=True,
                                serialize=False,
                            ),
                        ),
                        ("label", models.CharField(max_length=32)),
                        ("zones", models.JSONField(blank=True, default=list)),
                        ("zone_index", models.CharField(blank=True, max_length=600)),
                        ("started_at", models.DateTimeField()),
                        ("ended_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "close_reason",
                            models.CharField(
                                blank=True,
                                choices=[
                                    ("timeout", "Not seen for the timeout"),
                                    ("stationary", "Stopped moving"),
                                ],
                                max_length=16,
                            ),
                        ),
                        ("max_score", models.FloatField(default=0.0)),
                        ("box", models.JSONField(blank=True, default=list)),
                        ("best_at", models.DateTimeField(blank=True, null=True)),
                        ("frame_boxes", models.JSONField(blank=True, default=list)),
                        ("frame_width", models.PositiveIntegerField(default=0)),
                        ("frame_height", models.PositiveIntegerField(default=0)),
                        ("snapshot_key", models.CharField(blank=True, max_length=512)),
                        ("snapshot_content_type", models.CharField(blank=True, max_length=32)),
                        (
                            "created_at",
                            models.DateTimeField(default=django.utils.timezone.now, editable=False),
                        ),
                        (
                            "camera",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="events",
                                to="cameras.camera",
                            ),
                        ),
                        (
                            "tenant",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="camera_events",
                                to="tenants.tenant",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "events_cameraevent",
                        "ordering": ["-started_at", "-id"],
                    },
                ),
                migrations.CreateModel(
                    name="WebhookDelivery",
                    fields=[
                        (
                            "id",
                            models.CharField(
                                default=apps.alerts.models.new_message_id,
                                max_length=40,
                                primary_key=True,
                                serialize=False,
                            ),
                        ),
                        ("event_type", models.CharField(max_length=32)),
                        ("payload", models.JSONField()),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("pending", "Pending"),
                                    ("succeeded", "Delivered"),
                                    ("failed", "Gave up"),
                                ],
                                default="pending",
                                max_length=16,
                            ),
                        ),
                        ("attempts", models.PositiveIntegerField(default=0)),
                        (
                            "next_attempt_at",
                            models.DateTimeField(default=django.utils.timezone.now),
                        ),
                        ("locked_until", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "created_at",
                            models.DateTimeField(default=django.utils.timezone.now, editable=False),
                        ),
                        ("delivered_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "event",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="deliveries",
                                to="alerts.cameraevent",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "events_webhookdelivery",
                        "ordering": ["-created_at"],
                    },
                ),
                migrations.CreateModel(
                    name="DeliveryAttempt",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("number", models.PositiveIntegerField()),
                        ("at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("status_code", models.PositiveIntegerField(blank=True, null=True)),
                        ("ok", models.BooleanField(default=False)),
                        ("latency_ms", models.FloatField(default=0.0)),
                        ("error", models.CharField(blank=True, max_length=300)),
                        ("response_excerpt", models.CharField(blank=True, max_length=500)),
                        (
                            "delivery",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="attempt_log",
                                to="alerts.webhookdelivery",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "events_deliveryattempt",
                        "ordering": ["-at", "-id"],
                    },
                ),
                migrations.CreateModel(
                    name="WebhookEndpoint",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "public_id",
                            models.CharField(
                                default=apps.alerts.models.new_endpoint_id,
                                editable=False,
                                max_length=32,
                                unique=True,
                            ),
                        ),
                        ("url", models.URLField(max_length=2000)),
                        ("description", models.CharField(blank=True, max_length=200)),
                        ("secret", models.CharField(max_length=64)),
                        ("cameras", models.JSONField(blank=True, default=list)),
                        ("labels", models.JSONField(blank=True, default=list)),
                        ("zones", models.JSONField(blank=True, default=list)),
                        ("event_types", models.JSONField(blank=True, default=list)),
                        ("enabled", models.BooleanField(default=True)),
                        ("disabled_reason", models.CharField(blank=True, max_length=300)),
                        ("disabled_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "created_at",
                            models.DateTimeField(default=django.utils.timezone.now, editable=False),
                        ),
                        (
                            "tenant",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="webhook_endpoints",
                                to="tenants.tenant",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "events_webhookendpoint",
                        "ordering": ["tenant", "created_at"],
                    },
                ),
                migrations.AddField(
                    model_name="webhookdelivery",
                    name="endpoint",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="deliveries",
                        to="alerts.webhookendpoint",
                    ),
                ),
                migrations.AddIndex(
                    model_name="cameraevent",
                    index=models.Index(
                        fields=["tenant", "-started_at"], name="camevent_tenant_time"
                    ),
                ),
                migrations.AddIndex(
                    model_name="cameraevent",
                    index=models.Index(
                        fields=["camera", "-started_at"], name="camevent_camera_time"
                    ),
                ),
                migrations.AddIndex(
                    model_name="cameraevent",
                    index=models.Index(fields=["started_at"], name="camevent_started"),
                ),
                migrations.AddIndex(
                    model_name="webhookdelivery",
                    index=models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
                ),
                migrations.AddIndex(
                    model_name="webhookdelivery",
                    index=models.Index(
                        fields=["endpoint", "-created_at"], name="delivery_endpoint"
                    ),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]
