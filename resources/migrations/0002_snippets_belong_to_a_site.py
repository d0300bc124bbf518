import django.db.models.deletion
from django.db import migrations, models

MODELS = ["campaign", "fundingopportunity", "hotline", "organization", "publication", "statute"]


def to_default_site(apps, schema_editor):
    """Items kept before sites had their own lists belong to the default site."""
    Site = apps.get_model("wagtailcore", "Site")
    site = Site.objects.filter(is_default_site=True).first() or Site.objects.first()
    for name in MODELS:
        model = apps.get_model("resources", name)
        if site is None:
            model.objects.all().delete()
        else:
            model.objects.update(site=site)


def field(null):
    return models.ForeignKey(
        null=null,
        help_text="The state's site that lists this item.",
        on_delete=django.db.models.deletion.CASCADE,
        related_name="+",
        to="wagtailcore.site",
        verbose_name="state site",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("resources", "0001_initial"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = (
        [migrations.AddField(model_name=m, name="site", field=field(True)) for m in MODELS]
        + [migrations.RunPython(to_default_site, migrations.RunPython.noop)]
        + [migrations.AlterField(model_name=m, name="site", field=field(False)) for m in MODELS]
        + [migrations.RemoveField(model_name=m, name="state") for m in MODELS]
    )
