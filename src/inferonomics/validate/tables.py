"""Reading a table of measurements or published results: one CSV loader for every validator."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from inferonomics.errors import ConfigError


def load_table(path: str | Path, required: tuple[str, ...]) -> pd.DataFrame:
    """A CSV with `required` columns, else `ConfigError` naming the file and what is missing."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: no such file")
    try:
        df = pd.read_csv(p)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise ConfigError(f"{p}: not a readable CSV ({exc})") from exc
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ConfigError(f"{p}: missing column(s) {', '.join(missing)} (see shared/data/README.md)")
    return df
