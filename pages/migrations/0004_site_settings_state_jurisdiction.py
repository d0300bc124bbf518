import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("pages", "0003_stats_block_help_text"),
        ("stats", "0002_reference_jurisdictions"),
    ]

    operations = [
        migrations.RemoveField(model_name="sitesettings", name="state_code"),
        migrations.RemoveField(model_name="sitesettings", name="state_name"),
        migrations.AddField(
            model_name="sitesettings",
            name="jurisdiction",
            field=models.ForeignKey(
                help_text="The state this site is about: its name heads every page.",
                limit_choices_to={"kind": "state"},
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="stats.jurisdiction",
                verbose_name="state",
            ),
        ),
    ]
