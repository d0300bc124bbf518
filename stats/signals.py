"""What the statistics store tells the rest of the project: that figures changed.

The store never imports the page cache, the pages or the project (dependencies point one way:
`pages` and `portal` use `stats`). Every write path (an import, a revert, a restore, an admin
edit, a scheduled release, a change of a source or of the catalog) calls
`stats.models.announce_figures_changed()`, which

- bumps the store's data version (`DataVersion`, a row in the database, in the writer's own
  transaction), so whatever is derived from the figures (a built download, a cached count, an
  ETag) is keyed by a version that lives where the figures live and commits or rolls back
  with them; and
- sends `figures_changed` once that transaction commits, for listeners such as the page cache
  (portal/signals.py) and the HTTP cache purge.
"""

from django.dispatch import Signal

# Sent after the commit of a change of figures (stats.models.announce_figures_changed).
# Arguments: metric_ids, a frozenset of the ids of the metrics whose figures changed, or None
# when any may have (a source's edition order, a place's name); version, the new data version.
figures_changed = Signal()
