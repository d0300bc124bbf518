"""The staff screens of the Statistics menu: word search and choosers (``search.py``), listing
filters (``filters.py``) and the admin views of figures and imports (``views.py``)."""
