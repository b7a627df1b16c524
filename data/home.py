"""Where a user's own files live: `UNSTUCK_HOME`, else the platform's user data directory. Only what
unstuck writes unasked-for-a-path goes there (examples, models, review answers, the saved region).
"""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    override = os.environ.get("UNSTUCK_HOME")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("unstuck", appauthor=False))


def examples_dir() -> Path:
    return home() / "examples"
