"""How many rows a queryset of the store holds, kept per query under the data version.

Every change of figures bumps `DataVersion` (stats/models.py) in its own transaction, so a
count keyed by it is never older than the figures: a lost or restored cache entry makes it
missing, never wrong. Counting every current figure reads the whole index at national scale;
this reads the version (one primary-key lookup) and one cache entry. When the cache does not
answer, it counts.
"""

import hashlib
import logging

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet

from stats.models import DataVersion

logger = logging.getLogger(__name__)
TIMEOUT = 24 * 60 * 60


def _guarded(what):
    try:
        return what()
    except Exception:
        logger.warning("Cache unavailable; counting without it.", exc_info=True)
        return None


def cached_count(queryset):
    """`queryset.count()`, cached under the data version and the query's SQL."""
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:
        return 0
    version = DataVersion.current()
    digest = hashlib.sha256(f"{queryset.db}|{sql}|{params!r}".encode()).hexdigest()
    key = f"stats:count:{version}:{digest}"
    count = _guarded(lambda: cache.get(key))
    if count is None:
        count = queryset.count()
        _guarded(lambda: cache.set(key, count, TIMEOUT))
    return count
