"""Translations that drifted from their source (another phone, link or order) take the source's
values: from now on a translation holds words only (resources/synchronized.py)."""

from django.conf import settings
from django.db import migrations

from resources.synchronized import align

BASE = ("site", "sort_order")
CHECKED = ("source_name", "source_url", "checked_on", "checked_by")
FACTS = {
    "statute": (*BASE, "citation", "category", "url"),
    "organization": (*BASE, "kind", "url"),
    "publication": (*BASE, "kind", "url"),
    "fundingopportunity": (*BASE, "url"),
    "campaign": (*BASE, "url"),
    "hotline": (
        *BASE,
        *("scope", "phone", "text_number", "chat_url", "relay"),
        *CHECKED,
    ),
    "safetyguidance": (*BASE, "emergency_number", *CHECKED),
}


def forwards(apps, schema_editor):
    Locale = apps.get_model("wagtailcore", "Locale")
    default = Locale.objects.filter(language_code=settings.LANGUAGE_CODE).first()
    if default is None:
        return
    for name, fields in FACTS.items():
        model = apps.get_model("resources", name)
        for translation, differences in align(model, fields, default.pk):
            for field, (old, new) in differences.items():
                print(f"\n  {name} {translation.pk}: {field} {old!r} -> {new!r}", end="")


class Migration(migrations.Migration):
    dependencies = [("resources", "0007_safety_guidance_checked_by")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
