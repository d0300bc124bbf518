"""The statistics store's helpers beside its models (``stats/models.py``): periods, how figures
are formatted by unit, the catalog loader and the breakdown checks."""
