"""Where pb finds the files that are not Python: the default configuration and the frontend.

A wheel (``pip install .``) carries them inside the package as ``pb/_data/config`` and
``pb/_data/frontend`` (pyproject.toml, force-include); a checkout (``pip install -e .`` or running
from the repository) has them at the top of the repository. The packaged copy wins when present.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def data_folder(name: str) -> Path:
    """``config`` or ``frontend``: the packaged copy, else the repository's."""
    for folder in (PACKAGE / "_data" / name, PACKAGE.parent / name):
        if folder.is_dir():
            return folder
    raise FileNotFoundError(
        f"pb cannot find its {name}/ folder (looked in {PACKAGE / '_data'} and {PACKAGE.parent}): "
        "reinstall pb from a wheel or run it from a checkout of the repository."
    )


DEFAULT_CONFIG = data_folder("config") / "default.toml"
FRONTEND = data_folder("frontend")
