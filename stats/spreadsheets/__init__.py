"""Spreadsheet exchange of observations: the one import/export code path.

read_upload(name, content) -> tablib.Dataset   file checks (size, type, zip bomb, formulas)
run_import(dataset, dry_run, user) -> ImportOutcome   all or nothing, row-level messages
export_dataset(observations, fmt) -> bytes      csv/xlsx/json, formula-safe, exact decimals

ObservationResource (django-import-export) resolves codes and slugs from maps built with
one query per referenced table, and finds existing observations with one more query.

common.py: columns, limits and cleaning of cells; reading.py: files to datasets;
resource.py: the Resource; importing.py: running and recording an import;
exporting.py: export and the downloadable template.
"""

from .common import (
    COLUMNS,
    EXPORT_COLUMNS,
    FORMATS,
    UploadError,
    max_bytes,
    max_rows,
    parse_number,
)
from .exporting import export_dataset, template_file
from .importing import ImportOutcome, check_columns, record_import, run_import
from .reading import read_upload
from .resource import ObservationResource

__all__ = [
    "COLUMNS",
    "EXPORT_COLUMNS",
    "FORMATS",
    "ImportOutcome",
    "ObservationResource",
    "UploadError",
    "check_columns",
    "export_dataset",
    "max_bytes",
    "max_rows",
    "parse_number",
    "read_upload",
    "record_import",
    "run_import",
    "template_file",
]
