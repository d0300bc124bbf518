"""Give the snippets that existed before translation their locale and translation key.

As Wagtail's documentation prescribes for making an existing model translatable: the fields
were added without constraints (0003), this fills them for the existing rows, and 0005 adds
the constraints. First, the content languages get their Locale rows: the default language's
row may have been created as "en-us" before the content languages were set to "en" and "es".
"""

from django.conf import settings
from django.db import migrations
from wagtail.coreutils import get_supported_content_language_variant
from wagtail.models import BootstrapTranslatableModel


def content_locales(apps, schema_editor):
    Locale = apps.get_model("wagtailcore", "Locale")
    default = get_supported_content_language_variant(settings.LANGUAGE_CODE)
    if not Locale.objects.filter(language_code=default).exists():
        old = Locale.objects.filter(language_code__startswith=default.split("-")[0]).first()
        if old is not None:
            old.language_code = default
            old.save(update_fields=["language_code"])
    for code, _name in settings.WAGTAIL_CONTENT_LANGUAGES:
        Locale.objects.get_or_create(language_code=code)


class Migration(migrations.Migration):
    dependencies = [
        ("resources", "0003_translatable_snippets"),
    ]

    operations = [
        migrations.RunPython(content_locales, migrations.RunPython.noop),
        BootstrapTranslatableModel("resources.Statute"),
        BootstrapTranslatableModel("resources.Organization"),
        BootstrapTranslatableModel("resources.Publication"),
        BootstrapTranslatableModel("resources.FundingOpportunity"),
        BootstrapTranslatableModel("resources.Campaign"),
        BootstrapTranslatableModel("resources.Hotline"),
    ]
