"""The audit's facts of each Reading as columns beside its JSON (votes/audit_pages.py)."""

from django.db import migrations, models

BATCH = 2000


def _fill(apps, schema_editor):
    """Existing rows get the facts their JSON holds, as `Reading.columns` writes them now."""
    reading = apps.get_model("votes", "Reading")
    rows = []
    for row in reading.objects.only("pk", "data").iterator(chunk_size=BATCH):
        data = row.data or {}
        flags = data.get("flags") or []
        row.excluded = data.get("excluded") or ""
        row.held = bool(flags)
        row.held_prompts = [f.get("prompt") for f in flags]
        row.mentions = bool(data.get("mentions"))
        rows.append(row)
        if len(rows) == BATCH:
            reading.objects.bulk_update(rows, ["excluded", "held", "held_prompts", "mentions"])
            rows = []
    reading.objects.bulk_update(rows, ["excluded", "held", "held_prompts", "mentions"])


class Migration(migrations.Migration):
    dependencies = [
        ("votes", "0008_entry_merge"),
    ]

    operations = [
        migrations.AddField(
            model_name="reading",
            name="excluded",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.AddField(
            model_name="reading",
            name="held",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="reading",
            name="held_prompts",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="reading",
            name="mentions",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(_fill, migrations.RunPython.noop),
    ]
