"""Signal hooks of the statistics store (cache invalidation is wired here)."""
