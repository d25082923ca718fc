"""The recount bookkeeping now lives in votes.RecountState (votes' 0004 copies it first)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("chapters", "0003_prompt_kind_lines"),
    ]

    operations = [
        migrations.RemoveField(model_name="vote", name="recount_wanted_at"),
        migrations.RemoveField(model_name="vote", name="recount_queued_at"),
        migrations.RemoveField(model_name="vote", name="recount_done_at"),
    ]
