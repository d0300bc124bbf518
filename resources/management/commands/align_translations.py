"""Copy each snippet's facts (phone, links, codes, order...) from its default-language item to
its translations, and say which translation held another value."""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction
from wagtail.models import Locale

from resources.synchronized import align


def report(model, changed):
    for translation, differences in changed:
        for name, (old, new) in differences.items():
            yield f"{model.__name__} {translation.pk} ({translation}): {name} {old!r} -> {new!r}"


class Command(BaseCommand):
    help = "Give every snippet translation its source's facts; lists each value it corrects."

    def handle(self, *args, **options):
        default = Locale.get_default()
        count = 0
        with transaction.atomic():
            for model in apps.get_app_config("resources").get_models():
                changed = align(model, model.synchronized_fields, default.pk)
                for line in report(model, changed):
                    self.stdout.write(line)
                count += len(changed)
        self.stdout.write(f"{count} translation(s) aligned with their source.")
