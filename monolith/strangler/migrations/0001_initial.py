from django.db import migrations, models


def record_stage_0(apps, schema_editor):
    apps.get_model("strangler", "Stage").objects.get_or_create(pk=1, defaults={"number": 0})


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Stage",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("number", models.PositiveSmallIntegerField(default=0)),
                ("changed_at", models.DateTimeField(auto_now=True)),
            ],
        ),
        migrations.RunPython(record_stage_0, migrations.RunPython.noop),
    ]
