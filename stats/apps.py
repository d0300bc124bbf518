from django.apps import AppConfig

from stats.signals import figures_changed


class StatsConfig(AppConfig):
    name = "stats"
    verbose_name = "Statistics"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from stats.opendata import files  # needs the models: only once the registry is ready

        # Each change of figures builds the new version of every full download asked for.
        figures_changed.connect(files.rebuild_known, dispatch_uid="stats.downloads.rebuild")
