from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("quest", "0008_forum_identity")]

    operations = [
        migrations.AddField(
            model_name="quest",
            name="post_changes",
            field=models.PositiveBigIntegerField(default=0),
        ),
    ]
