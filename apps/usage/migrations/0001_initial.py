"""Usage events and daily roll-ups, moved here from apps/detection: state only, the tables keep
their names (detection_*), so no row is copied."""

import django.db.models.deletion
from django.db import migrations, models

MOVED = ["usageevent", "dailyusage"]


def _relabel(apps, schema_editor, old: str, new: str) -> None:
    """Content types (and so permissions, admin history) follow the models to their app."""
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not content_type.objects.filter(app_label=new, model=model).exists():
            content_type.objects.filter(app_label=old, model=model).update(app_label=new)


def forwards(apps, schema_editor) -> None:
    _relabel(apps, schema_editor, "detection", "usage")


def backwards(apps, schema_editor) -> None:
    _relabel(apps, schema_editor, "usage", "detection")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("detection", "0006_usageevent_request_id_index"),
        ("tenants", "0005_apikey_scopes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="DailyUsage",
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
                        ("application_type", models.CharField(blank=True, max_length=32)),
                        ("day", models.DateField()),
                        ("requests", models.PositiveIntegerField(default=0)),
                        ("errors", models.PositiveIntegerField(default=0)),
                        ("objects_found", models.PositiveBigIntegerField(default=0)),
                        ("image_bytes", models.PositiveBigIntegerField(default=0)),
                        ("latency_ms_total", models.FloatField(default=0.0)),
                        ("calls", models.PositiveIntegerField(default=0)),
                        ("failed_calls", models.PositiveIntegerField(default=0)),
                        (
                            "tenant",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="daily_usage",
                                to="tenants.tenant",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name_plural": "daily usage",
                        "db_table": "detection_dailyusage",
                        "ordering": ["-day", "tenant", "application_type"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("tenant", "application_type", "day"),
                                name="unique_daily_usage",
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="UsageEvent",
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
                        ("created_at", models.DateTimeField(db_index=True)),
                        ("request_id", models.CharField(db_index=True, max_length=32)),
                        ("application_type", models.CharField(blank=True, max_length=128)),
                        (
                            "endpoint",
                            models.CharField(
                                choices=[
                                    ("seed", "POST /inference"),
                                    ("native", "POST /api/v1/detect/{application_type}"),
                                    ("deepstack", "POST /v1/vision/detection"),
                                ],
                                max_length=16,
                            ),
                        ),
                        ("status_code", models.PositiveSmallIntegerField()),
                        ("error_code", models.CharField(blank=True, max_length=64)),
                        ("latency_ms", models.FloatField()),
                        ("objects_found", models.PositiveIntegerField(default=0)),
                        ("image_bytes", models.PositiveIntegerField(default=0)),
                        ("model", models.CharField(blank=True, max_length=128)),
                        ("camera", models.CharField(blank=True, max_length=32)),
                        (
                            "api_key",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="usage_events",
                                to="tenants.apikey",
                            ),
                        ),
                        (
                            "tenant",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="usage_events",
                                to="tenants.tenant",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "detection_usageevent",
                        "ordering": ["-created_at"],
                        "indexes": [
                            models.Index(
                                fields=["tenant", "created_at"],
                                name="detection_u_tenant__750806_idx",
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]
