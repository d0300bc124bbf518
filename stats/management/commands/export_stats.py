"""python manage.py export_stats PATH [--metric --jurisdiction --source --period-from --period-to
--history]: the format follows the extension (.csv, .xlsx, .json)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from stats.exchange import FORMATS
from stats.exchange.exporting import export_stream
from stats.models import Observation
from stats.store.periods import PeriodError, parse_period


class Command(BaseCommand):
    help = "Export observations in the exchange format (CSV, XLSX or JSON, from the extension)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="Where to write: a .csv, .xlsx or .json file.")
        parser.add_argument("--metric", action="append", help="Metric slug (repeatable).")
        parser.add_argument(
            "--jurisdiction", action="append", help="Jurisdiction code (repeatable)."
        )
        parser.add_argument("--source", action="append", help="Source edition slug (repeatable).")
        parser.add_argument("--period-from", help="Periods ending in or after this year/period.")
        parser.add_argument("--period-to", help="Periods starting in or before this year/period.")
        parser.add_argument(
            "--history",
            action="store_true",
            help="Every edition's value; by default only the current (newest edition) values.",
        )

    def handle(self, *args, path, **options):
        fmt = Path(path).suffix.lower().lstrip(".")
        if fmt not in FORMATS:
            raise CommandError(
                f"Cannot tell the format of {path}: use a .csv, .xlsx or .json file name.",
                returncode=2,
            )
        queryset = Observation.objects.all()
        if options["metric"]:
            queryset = queryset.filter(metric__slug__in=options["metric"])
        if options["jurisdiction"]:
            codes = [c.upper() for c in options["jurisdiction"]]
            queryset = queryset.filter(jurisdiction__code__in=codes)
        if options["source"]:
            queryset = queryset.filter(source__slug__in=options["source"])
        try:
            if options["period_from"]:
                queryset = queryset.filter(period_end__gte=parse_period(options["period_from"])[0])
            if options["period_to"]:
                queryset = queryset.filter(period_start__lte=parse_period(options["period_to"])[1])
        except PeriodError as e:
            raise CommandError(str(e), returncode=2) from None
        observations = queryset.by_key() if options["history"] else queryset.current()
        try:
            with Path(path).open("wb") as out:
                for piece in export_stream(observations, fmt):
                    out.write(piece)
        except OSError as e:
            raise CommandError(f"Cannot write {path}: {e.strerror}.", returncode=2) from None
        count = observations.count()
        self.stdout.write(self.style.SUCCESS(f"Exported {count} observations to {path}."))
