"""Each request stored once, enforced: a unique request id (two drains could both store one).

Rows stored twice before this (the race it closes) are removed first, keeping the earliest;
the daily roll-ups are left as they were counted."""

from django.db import migrations, models
from django.db.models import Count, Min


def drop_second_copies(apps, schema_editor) -> None:
    usage_event = apps.get_model("usage", "UsageEvent")
    twice = (
        usage_event.objects.values("request_id")
        .annotate(copies=Count("id"), first=Min("id"))
        .filter(copies__gt=1)
    )
    for row in twice.iterator():
        usage_event.objects.filter(request_id=row["request_id"]).exclude(pk=row["first"]).delete()


class Migration(migrations.Migration):
    dependencies = [("usage", "0001_initial")]

    operations = [
        migrations.RunPython(drop_second_copies, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="usageevent",
            name="request_id",
            field=models.CharField(max_length=32, unique=True),
        ),
    ]
