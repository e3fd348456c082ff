"""Connections (issue 15): the status of each connection (its identity from STS, its last
error), and the permission to see them, given to Admins.

Numbered 0010: other branches take 0008 and 0009; when they merge, point `dependencies` at the
last of them."""

from django.contrib.auth.management import create_permissions
from django.db import migrations, models


def grant_admins(apps, schema_editor):
    # Permissions are normally created after all migrations; this one needs it now.
    app_config = apps.get_app_config("jobs")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.get(
        content_type__app_label="jobs", codename="manage_connections"
    )
    for group in Group.objects.filter(name="Admins"):
        group.permissions.add(permission)


def revoke_admins(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(content_type__app_label="jobs", codename="manage_connections").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0008_trigram"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.CreateModel(
            name="ConnectionStatus",
            fields=[
                ("name", models.CharField(max_length=40, primary_key=True, serialize=False)),
                ("fingerprint", models.CharField(blank=True, max_length=64)),
                ("checked_at", models.DateTimeField(blank=True, null=True)),
                ("account", models.CharField(blank=True, max_length=12)),
                ("caller_arn", models.CharField(blank=True, max_length=2048)),
                ("identified_at", models.DateTimeField(blank=True, null=True)),
                ("error_code", models.CharField(blank=True, max_length=128)),
                ("error_message", models.TextField(blank=True)),
            ],
        ),
        migrations.AlterModelOptions(
            name="access",
            options={
                "default_permissions": (),
                "managed": False,
                "permissions": [
                    ("browse_jobs", "Can browse jobs and models"),
                    ("operate_jobs", "Can create and stop jobs"),
                    ("delete_jobs", "Can delete jobs and models"),
                    ("manage_connections", "Can see and check connections"),
                ],
            },
        ),
        migrations.RunPython(grant_admins, revoke_admins),
    ]
