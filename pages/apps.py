from django.apps import AppConfig


class PagesConfig(AppConfig):
    """Page types, site settings, the shared StreamBlock and loading state packs."""

    name = "pages"
    verbose_name = "Pages"
    default_auto_field = "django.db.models.BigAutoField"
