"""Spreadsheet exchange of observations: the one import/export code path.

read_upload(name, content) -> tablib.Dataset   file checks (size, type, zip bomb, formulas)
run_import(dataset, dry_run, user) -> ImportOutcome   all or nothing, row-level messages
revert_import(record, user)                     undo a confirmed import, all or nothing
export_dataset(observations, fmt) -> bytes      csv/xlsx/json, formula-safe, exact decimals

validating.py reads the rows into a plan: each column converted by its django-import-export
widget (widgets.py; names resolved from maps read once for the names the file uses), then the
stored figures read by the keys the rows name, as tuples. importing.py writes a plan in one
transaction, under a lock of the rows it read, and records every change (ObservationChange).

common.py: columns, limits and cleaning of cells; reading.py: files to datasets;
exporting.py: the export; template.py: the downloadable template; resource.py:
django-import-export's resource of observations; tasks.py: the background import.
"""

from stats.exchange.common import (
    COLUMNS,
    EXPORT_COLUMNS,
    FORMATS,
    UploadError,
    max_bytes,
    max_rows,
    parse_number,
)
from stats.exchange.exporting import export_dataset
from stats.exchange.importing import (
    ImportOutcome,
    RevertRefused,
    check_columns,
    record_import,
    revert_import,
    run_import,
)
from stats.exchange.reading import read_upload
from stats.exchange.resource import ObservationResource
from stats.exchange.template import template_file

__all__ = [
    "COLUMNS",
    "EXPORT_COLUMNS",
    "FORMATS",
    "ImportOutcome",
    "ObservationResource",
    "RevertRefused",
    "UploadError",
    "check_columns",
    "export_dataset",
    "max_bytes",
    "max_rows",
    "parse_number",
    "read_upload",
    "record_import",
    "revert_import",
    "run_import",
    "template_file",
]
