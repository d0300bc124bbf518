from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Here, not at the top: these modules import models, which load after the app configs.
        from portal.permissions import ensure_groups_after_migrate
        from portal.signals import connect as connect_cache_invalidation

        # After every migrate: the staff groups and their rights (portal/permissions.py). Sent
        # for the pages app: Django signals only apps with models, and portal has none.
        post_migrate.connect(ensure_groups_after_migrate, sender=apps.get_app_config("pages"))
        # Cached public pages go stale when pages, figures or resources change (portal/cache.py).
        connect_cache_invalidation()
