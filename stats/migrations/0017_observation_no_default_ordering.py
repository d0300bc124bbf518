from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("stats", "0016_import_reason"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="observation",
            options={
                "permissions": [("import_observation", "Can import figures from spreadsheets")]
            },
        ),
    ]
