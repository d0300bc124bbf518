from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("stats", "0017_spanish_renderings_of_notes"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="observation",
            options={
                "permissions": [("import_observation", "Can import figures from spreadsheets")]
            },
        ),
    ]
