"""API keys get scopes. New keys default to detect only; every key issued before keeps working
as it did (all scopes), and the dashboard shows it so, for its owner to narrow."""

from django.db import migrations, models

import apps.tenants.models

SCOPES_BEFORE_SCOPES = ["detect", "events:read", "manage"]


def existing_keys_keep_every_scope(apps, schema_editor):
    apps.get_model("tenants", "ApiKey").objects.update(scopes=SCOPES_BEFORE_SCOPES)


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0004_detection_models_and_tiers"),
    ]

    operations = [
        migrations.AddField(
            model_name="apikey",
            name="scopes",
            field=models.JSONField(default=apps.tenants.models.default_key_scopes),
        ),
        migrations.RunPython(existing_keys_keep_every_scope, migrations.RunPython.noop),
    ]
