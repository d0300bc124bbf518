"""Figures on public pages: the StreamField blocks, the page's one batched fetch of figures
(``batch.py``), chart and key-figure shaping (``shaping.py``) and the US map (``geo.py``)."""
