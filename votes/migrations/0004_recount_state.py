"""Recount bookkeeping moves from chapters.Vote to votes.RecountState.

1. Create RecountState (one row per vote, keyed by the vote).
2. Copy each vote's recount_wanted_at / queued_at / done_at into it, for the
   votes that have any (a vote never asked to recount gets no row, as now).
3. chapters' 0004 then drops the old fields: `run_before` orders it after the
   copy without chapters' migrations naming the votes app above them.
"""

import django.db.models.deletion
from django.db import migrations, models


def copy_from_votes(apps, schema_editor):
    Vote = apps.get_model("chapters", "Vote")
    RecountState = apps.get_model("votes", "RecountState")
    rows = (
        Vote.objects.exclude(
            recount_wanted_at=None, recount_queued_at=None, recount_done_at=None
        )
        .values_list("pk", "recount_wanted_at", "recount_queued_at", "recount_done_at")
        .iterator()
    )
    RecountState.objects.bulk_create(
        (
            RecountState(vote_id=pk, wanted_at=wanted, queued_at=queued, done_at=done)
            for pk, wanted, queued, done in rows
        ),
        batch_size=1000,
    )


def copy_back_to_votes(apps, schema_editor):
    Vote = apps.get_model("chapters", "Vote")
    RecountState = apps.get_model("votes", "RecountState")
    for state in RecountState.objects.iterator():
        Vote.objects.filter(pk=state.vote_id).update(
            recount_wanted_at=state.wanted_at,
            recount_queued_at=state.queued_at,
            recount_done_at=state.done_at,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("chapters", "0002_vote_ranked_method"),
        ("votes", "0003_decision_proxy"),
    ]
    run_before = [
        ("chapters", "0004_remove_vote_recount_fields"),
    ]

    operations = [
        migrations.CreateModel(
            name="RecountState",
            fields=[
                (
                    "vote",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="recount_state",
                        serialize=False,
                        to="chapters.vote",
                    ),
                ),
                ("wanted_at", models.DateTimeField(blank=True, null=True)),
                ("queued_at", models.DateTimeField(blank=True, null=True)),
                ("done_at", models.DateTimeField(blank=True, null=True)),
            ],
        ),
        migrations.RunPython(copy_from_votes, copy_back_to_votes),
    ]
