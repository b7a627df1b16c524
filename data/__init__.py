"""Shipped data and the file formats unstuck reads and writes.

Owns the taxonomy, the seed set, the crisis patterns and resources, every reader and writer of
files, and the records the other rooms pass along (`records.py`).
Imports nothing else of unstuck's.
"""

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent
SEED_DIR = DATA_DIR / "seed"
