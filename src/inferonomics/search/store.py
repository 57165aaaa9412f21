"""Sweeps on disk: one Parquet file of rows with the inputs that produced them in its metadata.

While a sweep runs, each finished chunk is written to `<file>.parts/` so an interrupted sweep can be
resumed; the final file replaces the parts. Query a sweep with pandas (`read_sweep`) or DuckDB
(`SELECT * FROM 'sweep.parquet' WHERE feasible ORDER BY usd_per_mtok`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from inferonomics.errors import ConfigError, InvalidInputError
from inferonomics.search.screen import RAW_COLUMNS, empty_rows

META_KEY = b"inferonomics.search"


def write_sweep(path: str | Path, rows: pd.DataFrame, meta: dict[str, Any]) -> Path:
    """Write `rows` with `meta` (JSON) in the file's metadata, atomically (temp file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(rows.reset_index(drop=True), preserve_index=False)
    existing = table.schema.metadata or {}
    table = table.replace_schema_metadata({**existing, META_KEY: json.dumps(meta, default=str).encode()})
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)
    return path


def check_overwritable(path: str | Path) -> None:
    """An existing `--out` file may be replaced only if it is a sweep (never another file of the user's)."""
    path = Path(path)
    if path.is_dir():
        raise InvalidInputError(f"--out {path} is a directory; give a file name, e.g. {path / 'sweep.parquet'}")
    if not path.exists():
        return
    try:
        meta = pq.read_schema(path).metadata or {}
    except (pa.ArrowInvalid, OSError):
        meta = {}
    if META_KEY not in meta:
        raise InvalidInputError(f"--out {path} exists and is not a search sweep; move it away or choose another name")


def read_sweep(path: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Rows and inputs of a stored sweep."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"no sweep file at {path}")
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ConfigError(f"{path} is not a readable Parquet file: {exc}") from None
    raw = (table.schema.metadata or {}).get(META_KEY)
    if raw is None:
        raise ConfigError(f"{path} is not an inferonomics search sweep (no '{META_KEY.decode()}' metadata)")
    return table.to_pandas(), json.loads(raw)


def check_same_screen(stored: dict[str, Any], current: dict[str, Any], path: Path) -> None:
    """A resumed sweep must screen the same model, hardware, lengths, space and calibration."""
    old = stored.get("screen_key", {})
    diff = sorted(k for k in set(old) | set(current) if old.get(k) != current.get(k))
    if diff:
        raise InvalidInputError(
            f"{path} was screened with other inputs ({', '.join(diff)} differ); resume needs the same model, "
            "hardware, --isl/--osl and search space, or write to a new --out file"
        )


class PartStore:
    """Finished chunks of a running sweep, one Parquet file each, next to the final file."""

    def __init__(self, path: str | Path) -> None:
        self.final = Path(path)
        self.dir = self.final.with_name(self.final.name + ".parts")

    KEY_FILE = "screen_key.json"

    def _ours(self, p: Path) -> bool:
        """A file this store writes: the screen key or a chunk (`<stage>-<index>.parquet[.tmp]`)."""
        return p.is_file() and (
            p.name == self.KEY_FILE or re.fullmatch(r"[a-z]+-\d+-\d{6}\.parquet(\.tmp)?", p.name) is not None
        )

    def check_owned(self) -> None:
        """Refuse a `.parts` path that exists and is not a search's: never delete what it did not create."""
        if self.dir.exists() and not self.dir.is_dir():
            raise InvalidInputError(f"{self.dir} exists and is not a directory; choose another --out")
        if self.dir.is_dir():
            foreign = [p.name for p in self.dir.iterdir() if not self._ours(p)]
            if foreign or not (self.dir / self.KEY_FILE).is_file():
                what = f"holds {len(foreign)} other file(s), e.g. {foreign[0]!r}" if foreign else "has no screen key"
                raise InvalidInputError(
                    f"{self.dir} exists and was not made by a search ({what}); move it away or choose another --out"
                )

    def start(self, screen_key: dict[str, Any]) -> None:
        self.check_owned()
        if self.dir.is_dir():
            key_file = self.dir / "screen_key.json"
            if key_file.is_file():
                check_same_screen({"screen_key": json.loads(key_file.read_text())}, screen_key, self.dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "screen_key.json").write_text(json.dumps(screen_key, sort_keys=True, default=str))

    def write(self, stage: str, index: int, rows: pd.DataFrame) -> None:
        if len(rows):
            tmp = self.dir / f"{stage}-{index:06d}.parquet.tmp"
            rows.to_parquet(tmp, index=False)
            os.replace(tmp, self.dir / f"{stage}-{index:06d}.parquet")

    def read(self) -> pd.DataFrame:
        if not self.dir.is_dir():
            return empty_rows()
        frames = [pd.read_parquet(p) for p in sorted(self.dir.glob("*.parquet"))]
        return raw_rows(pd.concat(frames, ignore_index=True)) if frames else empty_rows()

    def clear(self) -> None:
        """Delete this store's files and then the directory if it is empty (nothing else is touched)."""
        if not self.dir.is_dir():
            return
        self.check_owned()
        for p in self.dir.iterdir():
            if self._ours(p):
                p.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.dir.rmdir()


def raw_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The screened columns of stored rows (the target-dependent ones are recomputed)."""
    missing = [c for c in RAW_COLUMNS if c not in df.columns]
    if missing:
        raise ConfigError(f"stored sweep lacks columns {', '.join(missing)}; screen it again")
    return df[list(RAW_COLUMNS)].astype(RAW_COLUMNS)


def load_for_resume(path: Path, screen_key: dict[str, Any]) -> pd.DataFrame:
    """Rows already screened for these inputs: the final file if present, plus any finished parts."""
    frames = []
    if path.is_file():
        rows, meta = read_sweep(path)
        check_same_screen(meta, screen_key, path)
        frames.append(raw_rows(rows))
    parts = PartStore(path)
    if parts.dir.is_dir():
        parts.start(screen_key)  # checks the parts' key
        frames.append(parts.read())
    if not frames:
        return empty_rows()
    rows = pd.concat(frames, ignore_index=True)
    return rows.drop_duplicates(["config_id", "batch_size"], keep="first")
