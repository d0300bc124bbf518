"""Open data: the JSON API (``api.py``) and the bulk downloads (``downloads.py``)."""
