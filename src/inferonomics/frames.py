"""Typed access to pandas frames whose column names are strings (all of the project's frames).

pandas-stubs type labels as `Hashable` (`DataFrame.to_dict` keys, `Series.idxmin`), which is wider than
the string column names and single-row labels the project uses; these helpers state that once.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, cast

import pandas as pd


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """`df.to_dict(orient="records")`: one dict per row, keyed by column name."""
    return cast(list[dict[str, Any]], df.to_dict(orient="records"))


def json_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """`records(df)` with missing values (NaN) as None, as JSON output wants them."""
    return [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()} for r in records(df)]


def row_dict(row: pd.Series) -> dict[str, Any]:
    """`row.to_dict()` for a row of a frame: keyed by column name."""
    return cast(dict[str, Any], row.to_dict())


def row_at(df: pd.DataFrame, label: Hashable) -> pd.Series:
    """`df.loc[label]` for a label naming exactly one row (e.g. from `Series.idxmin` / `idxmax`)."""
    return cast(pd.Series, df.loc[cast(Any, label)])
