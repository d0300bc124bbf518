"""What a process remembers of sites and the page tree (a page's route, menu, translations,
the pages its restrictions are on), for the versions of the request it serves.

Each request reads the versions first (portal.cache.PublicPageCacheMiddleware): everything
here is kept for the site structure version it was read at, and dropped when that moves (a
page published, moved or deleted, a view restriction, a Site or site settings changed), so a
remembered value can be missing, never stale. What also depends on the figures is keyed by the
data version too. Without versions (unreadable), nothing is remembered. Apart from
portal.cache so that the page models can use it (portal.cache imports them).
"""

import threading

REMEMBERED_SIZE = 4096  # entries; then everything is dropped (made-up paths cannot grow it)


class _Memo(threading.local):
    """One memory per thread: under gunicorn's threaded workers (gunicorn.conf.py) two requests
    of one process may hold different versions, and a value one read at the old version must
    not land in the memory of the new one."""

    def __init__(self):
        self.structure, self.data, self.values = None, None, {}


_memo = _Memo()


def at_versions(structure, data=None):
    """The versions of the request being served (None: unreadable): the structure version
    moved, what was remembered is dropped."""
    if _memo.structure != structure:
        _memo.values = {}
    _memo.structure, _memo.data = structure, data


def remembered(key, compute, figures=False):
    """`compute()`, remembered for the site structure version (and with `figures`, the data
    version too)."""
    if _memo.structure is None or (figures and _memo.data is None):
        return compute()
    if figures:
        key = (key, _memo.data)
    values = _memo.values
    if key not in values:
        if len(values) >= REMEMBERED_SIZE:
            values.clear()
        values[key] = compute()
    return values[key]
