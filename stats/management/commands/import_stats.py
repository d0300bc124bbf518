"""python manage.py import_stats PATH [--dry-run] [--reason TEXT]

Runs the same write path as the admin (at once, in this process, with a progress bar on a
terminal), and prints the number of the ImportRecord it made: `revert_import ID` undoes it.
Argument errors (argparse) and a missing file are usage errors.
Exit status: 0 imported (or, with --dry-run, would import), 1 rejected, 2 usage error.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from stats.exchange import UploadError, read_upload, record_import, run_import
from stats.models import ImportRecord


class Command(BaseCommand):
    help = "Import observations from a CSV or XLSX file in the exchange format (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="A .csv or .xlsx file in the exchange format.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and report, but save nothing."
        )
        parser.add_argument(
            "--reason",
            default="",
            help="Why these figures change: recorded on every change of this import and shown "
            "in the public revisions log.",
        )

    def handle(self, *args, path, dry_run=False, reason="", **options):
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"No such file: {path}", returncode=2)
        content = file.read_bytes()
        try:
            dataset = read_upload(file.name, content)
        except UploadError as e:
            self._reject(e.messages)
        progress = self._progress(len(dataset)) if self.stdout.isatty() else None
        record = None
        if not dry_run:
            record = ImportRecord(
                file_name=file.name[:255],
                file_format=file.suffix.lstrip(".").lower()[:8],
                content=content,
                status=ImportRecord.Status.QUEUED,
                reason=reason.strip()[:2000],
            )
        outcome = run_import(dataset, dry_run=dry_run, progress=progress, record=record)
        if progress:
            progress(len(dataset), done=True)
        if outcome.busy:
            self._reject(["The database was busy with another change; try again."])
        if record is not None:
            record_import(file.name, content, outcome, record=record)
            self.stdout.write(
                f"Import record {record.pk} (undo: manage.py revert_import {record.pk})"
            )
        for warning in outcome.warnings:
            self.stdout.write(self.style.WARNING(f"Warning: {warning}"))
        for change in outcome.changes:
            fields = ", ".join(f"{k} {old} -> {new}" for k, (old, new) in change["fields"].items())
            self.stdout.write(f"row {change['row']}: {change['observation']}: {fields}")
        if not outcome.ok:
            self._reject(outcome.errors, outcome.summary())
        verb = "Dry run, nothing saved" if dry_run else "Imported"
        self.stdout.write(self.style.SUCCESS(f"{verb}: {outcome.summary()}"))

    def _reject(self, messages, summary=""):
        for message in messages:
            self.stderr.write(message)
        raise CommandError(f"Rejected, nothing was changed. {summary}".strip(), returncode=1)

    def _progress(self, total):
        stream = self.stdout

        def show(done_rows, done=False):
            width = 30
            filled = width * done_rows // max(total, 1)
            stream.write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {done_rows:,}/{total:,} rows",
                ending="\n" if done else "",
            )
            stream.flush()

        return show
