"""unstuck: tag therapy-journal entries with likely barriers to progress, on your own machine.

The public API is `Tagger` (load a model, tag text) and `tag_partition` (tag a pandas DataFrame: the
function any engine calls, e.g. `dask.dataframe.map_partitions` or Spark's `mapInPandas`). Imported
lazily so that `unstuck --help` does not pay for spaCy and scikit-learn.
"""

__version__ = "0.1.0"
__all__ = ["Tagger", "Tagging", "tag_partition", "__version__"]


def __getattr__(name: str):
    if name in ("Tagger", "Tagging"):
        from unstuck.model import tagger

        return getattr(tagger, name)
    if name == "tag_partition":
        from unstuck.model.partition import tag_partition

        return tag_partition
    raise AttributeError(f"module 'unstuck' has no attribute {name!r}")
