"""Length distributions for synthetic workloads (prompt and output tokens), and their text form.

Text form used by the CLI: `fixed:1024`, `uniform:128,2048`, `lognormal:1000,0.8` (mean tokens and
the coefficient of variation), `empirical:100,200,400` (equally likely values), or
`empirical:FILE.csv[:column]` (values of a column, e.g. an Azure trace's `ContextTokens`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from inferonomics.errors import InvalidInputError, excerpt


class LengthDistribution(Protocol):
    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray: ...

    @property
    def mean(self) -> float: ...


@dataclass(frozen=True)
class Fixed:
    tokens: int

    def __post_init__(self) -> None:
        if self.tokens < 1:
            raise InvalidInputError(f"fixed length must be >= 1 token, got {self.tokens}")

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.full(n, self.tokens, dtype=np.int64)

    @property
    def mean(self) -> float:
        return float(self.tokens)


@dataclass(frozen=True)
class Uniform:
    low: int
    high: int

    def __post_init__(self) -> None:
        if not 1 <= self.low <= self.high:
            raise InvalidInputError(f"uniform lengths need 1 <= low <= high, got {self.low}, {self.high}")

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.integers(self.low, self.high + 1, size=n, dtype=np.int64)

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2.0


@dataclass(frozen=True)
class LogNormal:
    """Log-normal lengths with a given mean and coefficient of variation, clipped to [low, high]."""

    mean_tokens: float
    cv: float = 1.0
    low: int = 1
    high: int = 1_000_000

    def __post_init__(self) -> None:
        if self.mean_tokens < 1 or self.cv <= 0 or not 1 <= self.low <= self.high:
            raise InvalidInputError(
                f"lognormal needs mean >= 1, cv > 0 and 1 <= low <= high; got mean={self.mean_tokens}, "
                f"cv={self.cv}, low={self.low}, high={self.high}"
            )

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        sigma2 = math.log1p(self.cv**2)
        mu = math.log(self.mean_tokens) - sigma2 / 2.0
        x = rng.lognormal(mu, math.sqrt(sigma2), size=n)
        return np.clip(np.rint(x), self.low, self.high).astype(np.int64)

    @property
    def mean(self) -> float:
        return float(self.mean_tokens)


@dataclass(frozen=True)
class Empirical:
    values: tuple[int, ...]
    weights: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if not self.values or min(self.values) < 1:
            raise InvalidInputError("empirical lengths need at least one value, all >= 1")
        if self.weights is not None and (
            len(self.weights) != len(self.values) or min(self.weights) < 0 or sum(self.weights) <= 0
        ):
            raise InvalidInputError("empirical weights must match the values, be >= 0 and not all 0")

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        vals = np.asarray(self.values, dtype=np.int64)
        p = None if self.weights is None else np.asarray(self.weights, float) / sum(self.weights)
        return rng.choice(vals, size=n, p=p)

    @property
    def mean(self) -> float:
        if self.weights is None:
            return float(np.mean(self.values))
        return float(np.average(self.values, weights=self.weights))


def _ints(text: str, spec: str) -> list[int]:
    try:
        return [int(float(v)) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InvalidInputError(f"length distribution {spec!r}: expected numbers after ':'") from None


def parse_distribution(spec: str) -> LengthDistribution:
    """Parse `fixed:N`, `uniform:LO,HI`, `lognormal:MEAN[,CV]`, `empirical:V1,V2,...|FILE[:COL]`;
    a bare number means fixed."""
    spec = spec.strip()
    kind, _, rest = spec.partition(":")
    kind = kind.lower()
    if not rest and kind.replace(".", "", 1).isdigit():
        return Fixed(int(float(kind)))
    if kind == "fixed":
        (n,) = _ints(rest, spec)[:1] or [0]
        return Fixed(n)
    if kind == "uniform":
        v = _ints(rest, spec)
        if len(v) != 2:
            raise InvalidInputError(f"{spec!r}: uniform needs two numbers, LO,HI")
        return Uniform(v[0], v[1])
    if kind == "lognormal":
        try:
            nums = [float(x) for x in rest.split(",") if x.strip()]
        except ValueError:
            raise InvalidInputError(f"{spec!r}: lognormal needs MEAN[,CV]") from None
        if not 1 <= len(nums) <= 2:
            raise InvalidInputError(f"{spec!r}: lognormal needs MEAN[,CV]")
        return LogNormal(nums[0], nums[1] if len(nums) > 1 else 1.0)
    if kind == "empirical":
        path_str, column = rest, None
        if not Path(path_str).exists() and ":" in rest:
            path_str, column = rest.rsplit(":", 1)
        if Path(path_str).is_file():
            return _empirical_from_file(Path(path_str), column)
        if any(ch.isalpha() or ch in "/\\" for ch in rest):
            raise InvalidInputError(f"{spec!r}: file {path_str} not found")
        return Empirical(tuple(_ints(rest, spec)))
    raise InvalidInputError(
        f"unknown length distribution {spec!r}; use fixed:N, uniform:LO,HI, lognormal:MEAN[,CV] or "
        "empirical:V1,V2,... / empirical:FILE[:COLUMN]"
    )


def _empirical_from_file(path: Path, column: str | None) -> Empirical:
    import pandas as pd

    from inferonomics.serving.traces import MAX_TRACE_BYTES, _check_size

    _check_size(path, MAX_TRACE_BYTES, "length")
    try:
        df = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise InvalidInputError(f"{path}: empty file; empirical:FILE needs a CSV column of lengths") from None
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InvalidInputError(f"{path}: not a CSV of lengths ({excerpt(exc, 100)})") from None
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read: {exc.strerror}") from None
    if df.empty:
        raise InvalidInputError(f"{path}: a header and no lengths")
    col = column or df.columns[-1]
    if col not in df.columns:
        cols = excerpt(", ".join(map(str, df.columns)), 120)
        raise InvalidInputError(f"{path}: no column {excerpt(repr(col), 40)}; columns are {cols}")
    vals = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(vals) | (vals < 1) | (vals != np.floor(vals)))
    if bad.size:
        got = excerpt(repr(df[col].iloc[bad[0]]), 40)
        raise InvalidInputError(f"{path}:{bad[0] + 2}: {excerpt(col, 40)} must be a whole number >= 1, got {got}")
    return Empirical(tuple(int(v) for v in vals))
