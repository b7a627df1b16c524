"""unstuck: tag therapy-journal entries with likely barriers to progress, on your own machine.

The public API is `Tagger` (load a model, tag text or a DataFrame partition). Imported lazily so
that `unstuck --help` does not pay for spaCy and scikit-learn.
"""

__version__ = "0.1.0"
__all__ = ["Tagger", "Tagging", "__version__"]


def __getattr__(name: str):
    if name in ("Tagger", "Tagging"):
        from unstuck.model import tagger

        return getattr(tagger, name)
    raise AttributeError(f"module 'unstuck' has no attribute {name!r}")
