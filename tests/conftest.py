"""What every test shares: a fresh cache and the made-up statistics fixtures.

The cache (rendered public pages, Wagtail's site lookups, the API's rate counts) lives in the
process and outlives a test's database transaction, so every test starts and ends with it
empty. Fixtures from tests/stats_fixtures.py (`stats_data`) and tests/open_data_fixtures.py
(`open_data_figures`) are available to every test module without importing them. The
factories are in tests/factories.py.
"""

from pathlib import Path

import pytest
from django.core.cache import caches

from tests.open_data_fixtures import open_data_figures  # noqa: F401  (a fixture)
from tests.stats_fixtures import stats_data  # noqa: F401  (a fixture)


def pytest_configure(config):
    """Compile the Spanish catalog when it is missing or older than its .po, so a plain
    `pytest` serves Spanish pages as `make test` does (the .mo is not kept in git)."""
    import polib
    from django.conf import settings

    for po in Path(settings.BASE_DIR, "locale").glob("*/LC_MESSAGES/django.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            polib.pofile(str(po)).save_as_mofile(str(mo))


@pytest.fixture(autouse=True)
def reset_caches():
    from portal import cache as page_cache  # the models load after this module
    from portal import memo as page_memo

    for cache in caches.all():
        cache.clear()
    page_cache._recent.clear()  # the pages a process read last (portal/cache.py)
    # What it remembers of sites: a rolled-back test may reuse a structure version number.
    page_cache.sync_site_structure(None)
    page_memo.at_versions(None)
    yield
    for cache in caches.all():
        cache.clear()
    page_cache._recent.clear()


# The test packages that load the Missouri site once for all their tests.
WHOLE_PACKAGES = ("missouri", "browser")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist's `--dist loadgroup` each group runs whole on one worker: a group is
    a test module, or a package of WHOLE_PACKAGES, so that a module's or a package's fixtures
    are set up once. (Before xdist's own hook, which reads the groups.)"""
    root = Path(config.rootpath, "tests")
    for item in items:
        if not Path(item.path).is_relative_to(root):
            continue
        parts = Path(item.path).relative_to(root).parts
        group = parts[0] if parts[0] in WHOLE_PACKAGES else "/".join(parts)
        item.add_marker(pytest.mark.xdist_group(group))
