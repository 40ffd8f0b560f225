"""DailyUsage.calls / failed_calls: each API call once (see the model), backfilled from the
usage events already stored, each booked on its first service as the drain now does."""

from collections import defaultdict
from datetime import UTC

from django.db import migrations, models
from django.db.models import Count, Q
from django.db.models.functions import TruncDate


def backfill_calls(apps, schema_editor) -> None:
    UsageEvent = apps.get_model("detection", "UsageEvent")
    DailyUsage = apps.get_model("detection", "DailyUsage")
    groups = (
        UsageEvent.objects.filter(tenant__isnull=False)
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("tenant_id", "day", "application_type")
        .annotate(calls=Count("id"), failed=Count("id", filter=Q(status_code__gte=400)))
    )
    totals: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for group in groups:
        first = group["application_type"].split(",")[0]
        booked = totals[(group["tenant_id"], first, group["day"])]
        booked[0] += group["calls"]
        booked[1] += group["failed"]
    for (tenant_id, application_type, day), (calls, failed) in totals.items():
        DailyUsage.objects.filter(
            tenant_id=tenant_id, application_type=application_type, day=day
        ).update(calls=calls, failed_calls=failed)


class Migration(migrations.Migration):
    dependencies = [
        ("detection", "0002_usage_model"),
    ]

    operations = [
        migrations.AddField(
            model_name="dailyusage",
            name="calls",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="dailyusage",
            name="failed_calls",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(backfill_calls, migrations.RunPython.noop),
    ]
