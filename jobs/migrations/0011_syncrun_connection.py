"""Per-connection sync (issue 15): each SyncRun records the connection it swept and the account
its listing named. Earlier runs were all of the one connection built from settings, `default`."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("jobs", "0010_mirror_tags_models")]

    operations = [
        migrations.AddField(
            model_name="syncrun",
            name="connection",
            field=models.CharField(default="default", max_length=40),
        ),
        migrations.AddField(
            model_name="syncrun",
            name="account",
            field=models.CharField(blank=True, max_length=12),
        ),
        migrations.AddIndex(
            model_name="syncrun",
            index=models.Index(
                fields=["kind", "connection", "-started_at"], name="syncrun_kind_conn_started"
            ),
        ),
    ]
