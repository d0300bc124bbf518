from django.apps import AppConfig


class PagesConfig(AppConfig):
    """Page types, site settings, the shared StreamBlock and loading state packs."""

    name = "pages"
    verbose_name = "Pages"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from pages import privacy  # models are loaded only once the registry is ready

        privacy.connect()
