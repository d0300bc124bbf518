"""A file cache that never fails a request.

Django's FileBasedCache raises OSError when its folder is full, read-only or gone, and every
user of the cache (the page cache, the API's rate limit) would answer 500. This one logs the
failure and answers as a miss: get returns the default, set and add store nothing. (With
Redis, django-redis' IGNORE_EXCEPTIONS does the same; see portal/settings/base.py.)
"""

import logging

from django.core.cache.backends.filebased import FileBasedCache

logger = logging.getLogger(__name__)


def _failsafe(name, fallback):
    method = getattr(FileBasedCache, name)

    def guarded(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except OSError:
            logger.warning("File cache %s failed; carrying on without it.", name, exc_info=True)
            return fallback(*args, **kwargs)

    guarded.__name__ = name
    return guarded


class FailSafeFileBasedCache(FileBasedCache):
    def __init__(self, dir, params):
        # Django makes the folder in the constructor (and again before each write, which the
        # guarded set below covers): an unusable folder must not make building the cache raise.
        try:
            super().__init__(dir, params)
        except OSError:
            logger.warning("File cache folder %s unusable.", dir, exc_info=True)

    get = _failsafe("get", lambda key, default=None, version=None: default)
    set = _failsafe("set", lambda *args, **kwargs: None)
    add = _failsafe("add", lambda *args, **kwargs: False)
    touch = _failsafe("touch", lambda *args, **kwargs: False)
    delete = _failsafe("delete", lambda *args, **kwargs: False)
    has_key = _failsafe("has_key", lambda *args, **kwargs: False)
    clear = _failsafe("clear", lambda *args, **kwargs: None)
