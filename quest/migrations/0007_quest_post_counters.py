from django.db import migrations, models
from django.db.models import Max, OuterRef, Subquery
from django.db.models.functions import Coalesce


def counters_from_posts(apps, schema_editor):
    """Start each quest's counters at its thread's highest post numbers."""
    Quest = apps.get_model("quest", "Quest")
    Post = apps.get_model("quest", "Post")
    top = Post.objects.filter(quest=OuterRef("pk")).values("quest")
    Quest.objects.update(
        last_seq=Coalesce(Subquery(top.annotate(m=Max("seq")).values("m")), 0),
        last_ref=Coalesce(Subquery(top.annotate(m=Max("ref")).values("m")), 0),
    )


class Migration(migrations.Migration):
    dependencies = [("quest", "0006_membership_quest_master")]

    operations = [
        migrations.AddField(
            model_name="quest",
            name="last_seq",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="quest",
            name="last_ref",
            field=models.BigIntegerField(default=0),
        ),
        migrations.RunPython(counters_from_posts, migrations.RunPython.noop),
    ]
