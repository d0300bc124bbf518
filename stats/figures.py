"""One batched fetch of every figure a page shows.

Placeholder contract (filled in by the blocks work): FigureStore.for_stream(stream_value)
collects each stats block's selection, runs one query, and hands each block its values.
"""


class FigureStore:
    def __init__(self, observations=()):
        self.observations = list(observations)

    @classmethod
    def for_stream(cls, stream_value):
        return cls()
