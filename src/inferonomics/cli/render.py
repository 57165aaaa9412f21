"""Terminal rendering for every command: tables that fit the terminal, numbers in human form.

One job: turn rows into a Rich table that reads at a glance at the terminal's width.

- Cells never wrap mid-word. Identifier and number columns never wrap at all; a prose column (cells
  with spaces) wraps at spaces and is never narrower than its longest word.
- Columns are kept in priority order (the first column always) while they fit the terminal; the rest
  are hidden and named in the caption. ``--wide`` shows every column and lets the table run past
  the terminal's width instead of squeezing it (pipe through ``less -S`` to scroll).
- Numbers: thousands separators, at most 4 significant digits, no exponent below 1e15, no ``123.0``
  (an integral float prints as an integer), ``-`` for missing.

`install_help_metavars()` replaces Typer's type placeholders in ``--help`` (``<bool>``,
``<int range>``) by Click's words (``INTEGER``, ``FLOAT``, ``TEXT``, ``PATH``) and shows nothing
for a flag.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

import numpy as np
import typer
from rich import box
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

# ---------------------------------------------------------------------------------------------------
# numbers
# ---------------------------------------------------------------------------------------------------

SIGNIFICANT_DIGITS = 4


def fmt(v: Any, digits: int = SIGNIFICANT_DIGITS) -> str:
    """A value for people: `None`/NaN -> '-', ints and integral floats with separators ('1,979'),
    other floats to `digits` significant digits without trailing zeros ('2.039', '0.000959')."""
    if v is None:
        return "-"
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    if isinstance(v, int | np.integer):
        return f"{int(v):,}"
    if isinstance(v, float | np.floating):
        return _fmt_float(float(v), digits)
    return str(v)


def per_user_speed(v: Any) -> Any:
    """Tokens/s per user for a table: with one output token (osl 1) there is no decode step, so the speed per
    user has no finite value; say so instead of printing 'inf'."""
    if v is None or (isinstance(v, float | np.floating) and not math.isfinite(float(v))):
        return "undefined: no decode step (osl 1)"
    return v


def _fmt_float(v: float, digits: int) -> str:
    if math.isnan(v):
        return "-"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    a = abs(v)
    if a >= 1e15:
        return f"{v:.3g}"
    if a >= 10 ** (digits - 1) or v.is_integer():
        return f"{v:,.0f}"
    decimals = min(digits - 1 - math.floor(math.log10(a)), 12)
    s = f"{v:,.{decimals}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def human_count(n: float) -> str:
    """1.75e11 -> '175B' (3 significant digits with K/M/B/T)."""
    for unit, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= scale:
            return f"{_fmt_float(n / scale, 3)}{unit}"
    return fmt(float(n), 3)


def human_bytes(n: float) -> str:
    """Bytes in decimal units: 131072 -> '131 kB' (3 significant digits)."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= scale:
            return f"{_fmt_float(n / scale, 3)} {unit}"
    return f"{fmt(float(n), 3)} B"


def plural(n: float, word: str, words: str | None = None) -> str:
    """'1 chip', '12 chips'."""
    return f"{fmt(n)} {word if n == 1 else (words or word + 's')}"


# ---------------------------------------------------------------------------------------------------
# --wide
# ---------------------------------------------------------------------------------------------------


@dataclass
class _State:
    wide: bool = False


STATE = _State()


def set_wide(value: bool) -> bool:
    """Typer callback of `--wide`: tables of this invocation show every column, and the console stops
    cropping lines at the terminal's width (they run past it, as `ls -l` does)."""
    from inferonomics.cli.common import console

    if value:  # only ever on: the root's `--wide` must survive a command's own `--wide` default (off)
        STATE.wide = True
        console.soft_wrap = True
    return bool(value)


def reset_wide() -> None:
    """Every invocation starts narrow (`run_app` calls this before parsing)."""
    from inferonomics.cli.common import console

    STATE.wide = False
    console.soft_wrap = False


WideOpt = Annotated[
    bool,
    typer.Option("--wide", callback=set_wide, help="Show every column, even past the terminal's width."),
]


# ---------------------------------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column: where its value comes from, its header, and how it prints.

    `priority`: 0 is always shown; larger numbers are hidden first when the terminal is narrow
    (None: by position). `format`: value -> text (default `fmt`). `zero`: what 0 prints as (e.g. '-'
    where 0 means 'no figure'). `prose`: wraps at spaces (default: guessed from the cells).
    """

    key: str
    header: str | None = None
    priority: int | None = None
    format: Callable[[Any], str] | None = None
    zero: str | None = None
    prose: bool | None = None

    @property
    def title(self) -> str:
        return self.key if self.header is None else self.header


ColumnSpec = Column | str


@dataclass
class _Prepared:
    col: Column
    priority: int
    cells: list[str]
    numeric: bool
    prose: bool
    min_width: int = 0
    natural_width: int = 0
    header_lines: list[str] = field(default_factory=list)


PROSE_MIN_WIDTH = 24


def _cell(col: Column, v: Any) -> str:
    if isinstance(v, float) and v != v:
        v = None
    if col.zero is not None and isinstance(v, int | float | np.integer | np.floating) and v == 0:
        return col.zero
    if v is None:
        return "-"
    return (col.format or fmt)(v)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)


def _prepare(columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> list[_Prepared]:
    out = []
    for i, col in enumerate(columns):
        raw = [r[i] if i < len(r) else None for r in rows]
        cells = [_cell(col, v) for v in raw]
        longest = max((len(c) for c in cells), default=0)
        prose = col.prose if col.prose is not None else (longest > 24 and any(" " in c for c in cells))
        numeric = any(_is_number(v) for v in raw) and all(v is None or _is_number(v) for v in raw)
        words = [len(w) for c in cells for w in c.split()] or [0]
        title_words = [len(w) for w in col.title.split()] or [0]
        if prose:
            min_w = max(max(words), min(longest, PROSE_MIN_WIDTH), max(title_words))
        else:
            min_w = max(longest, max(title_words))
        natural = max(longest, len(col.title), min_w)
        prio = col.priority if col.priority is not None else i
        out.append(_Prepared(col, prio, cells, numeric, prose, min_w, natural))
    return out


def _chosen(prepared: list[_Prepared], width: int, wide: bool) -> list[_Prepared]:
    """Columns in priority order while their minimum widths fit `width` (all with `wide`)."""
    if wide:
        return prepared
    kept: list[_Prepared] = []
    for p in sorted(prepared, key=lambda p: p.priority):
        trial = [*kept, p]
        if not kept or p.priority == 0 or _table_width(trial, minimum=True) <= width:
            kept = trial
    return [p for p in prepared if p in kept]


def _table_width(cols: list[_Prepared], minimum: bool = False) -> int:
    """Width of a heavy-head Rich table: '│ a │ b │' = widths + 3 per column + 1."""
    return sum(p.min_width if minimum else p.natural_width for p in cols) + 3 * len(cols) + 1


def _header(p: _Prepared, width: int) -> str:
    """The header wrapped at spaces to the column's width (never mid-word)."""
    if len(p.col.title) <= width:
        return p.col.title
    return "\n".join(textwrap.wrap(p.col.title, width=width, break_long_words=False)) or p.col.title


class FittedTable:
    """A Rich renderable: the table fitted to the console at print time (its width is known then)."""

    def __init__(
        self,
        title: str | None,
        columns: Sequence[Column],
        rows: Sequence[Sequence[Any]],
        caption: str | None = None,
        wide: bool | None = None,
    ):
        self.title = title
        self.columns = list(columns)
        self.rows = [list(r) for r in rows]
        self.caption = caption
        self.wide = wide

    def build(self, width: int) -> tuple[Table, int]:
        """The Rich table for a console `width` columns wide, and the width it needs."""
        wide = STATE.wide if self.wide is None else self.wide
        prepared = _prepare(self.columns, self.rows)
        shown = _chosen(prepared, width, wide)
        hidden = [p.col.title for p in prepared if p not in shown]
        # room left for prose columns and long headers
        spare = width - _table_width(shown, minimum=True)
        prose = [p for p in shown if p.prose]
        widths = {id(p): p.min_width for p in shown}
        for p in shown:  # headers on one line where the room allows
            if not p.prose and spare > 0:
                extra = min(spare, max(0, len(p.col.title) - p.min_width))
                widths[id(p)] += extra
                spare -= extra
        for p in prose:  # prose takes what remains, up to its natural width
            if spare > 0:
                extra = min(spare, p.natural_width - widths[id(p)])
                widths[id(p)] += extra
                spare -= extra
        if wide:
            widths = {id(p): max(widths[id(p)], p.natural_width if not p.prose else widths[id(p)]) for p in shown}
        caption = self.caption
        if hidden:
            note = f"{len(hidden)} more column{'s' if len(hidden) > 1 else ''} with --wide: {', '.join(hidden)}"
            caption = f"{caption}\n{note}" if caption else note
        t = Table(
            title=None,  # printed above the table, wrapped to the terminal rather than the table
            header_style="bold",
            box=box.HEAVY_HEAD,
            caption=caption,
            caption_justify="left",
            caption_style="dim",
        )
        for p in shown:
            w = widths[id(p)]
            t.add_column(
                _header(p, w),
                justify="right" if p.numeric else "left",
                no_wrap=not p.prose,
                overflow="fold" if p.prose else "ellipsis",
                min_width=w if not wide else None,
                max_width=None if wide else (w if p.prose else None),
            )
        for r in zip(*[p.cells for p in shown], strict=True) if shown else []:
            t.add_row(*r)
        need = sum(widths.values()) + 3 * len(shown) + 1
        return t, need

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        t, need = self.build(options.max_width)
        wide = STATE.wide if self.wide is None else self.wide
        if self.title:
            yield Text(self.title, style="italic")
        if wide and need > options.max_width:
            options = options.update(width=need)
        yield from console.render(t, options)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        t, need = self.build(options.max_width)
        return Measurement(min(need, options.max_width), max(need, options.max_width))


def _as_column(c: ColumnSpec) -> Column:
    return c if isinstance(c, Column) else Column(c, c)


def table(
    title: str | None,
    columns: Sequence[ColumnSpec],
    rows: Iterable[Sequence[Any]],
    caption: str | None = None,
    wide: bool | None = None,
) -> FittedTable:
    """A table of `rows` (lists of values in column order). `columns`: headers or `Column`s; plain
    headers are hidden right to left when the terminal is too narrow."""
    cols = [_as_column(c) for c in columns]
    return FittedTable(title, cols, [list(r) for r in rows], caption=caption, wide=wide)


def records_table(
    title: str | None,
    records: Any,
    columns: Sequence[Column] | Mapping[str, str],
    caption: str | None = None,
    wide: bool | None = None,
) -> FittedTable:
    """A table of dict records (or a DataFrame's rows); `columns`: `Column`s, or key -> header (the
    order is the priority)."""
    if hasattr(records, "to_dict") and hasattr(records, "columns"):
        records = records.to_dict(orient="records")
    recs: list[Mapping[str, Any]] = list(records)
    cols = [Column(k, h) for k, h in columns.items()] if isinstance(columns, Mapping) else list(columns)
    if recs:
        cols = [c for c in cols if c.key in recs[0]]
    rows = [[r.get(c.key) for c in cols] for r in recs]
    return FittedTable(title, cols, rows, caption=caption, wide=wide)


frame_table = records_table


def shorten_labels(labels: Sequence[str], keep_first: bool = False) -> tuple[list[str], str]:
    """Deployment labels without what every row shares, and the shared part (for the title):
    'M on 4x h100 (TP4, bf16 weights, vllm)', 'M on 8x h100 (TP8, bf16 weights, vllm)' ->
    ['4x h100 (TP4)', '8x h100 (TP8)'], 'M; bf16 weights, vllm'. `keep_first`: each label keeps the
    first part in brackets (the parallelism) even where all share it."""
    labels = [str(x) for x in labels]
    if len(labels) < 2:
        return labels, ""
    heads, inner = [], []
    for x in labels:
        head, _, rest = x.partition(" (")
        heads.append(head)
        inner.append(rest[:-1].split(", ") if rest.endswith(")") else [])
    shared: list[str] = []
    models = {h.split(" on ", 1)[0] for h in heads if " on " in h}
    if len(models) == 1 and all(" on " in h for h in heads):
        shared.append(models.pop())
        heads = [h.split(" on ", 1)[1] for h in heads]
    common = [p for p in inner[0] if all(p in parts for parts in inner[1:])]
    if keep_first:
        common = [p for p in common if not any(parts and parts[0] == p for parts in inner)]
    if common:
        shared.append(", ".join(common))
    short = []
    for h, parts in zip(heads, inner, strict=True):
        own = [p for p in parts if p not in common]
        short.append(f"{h} ({', '.join(own)})" if own else h)
    return short, "; ".join(shared)


def describe_pools(spec: Any) -> str:
    """Disaggregated serving in words, one line per pool and the total:
    'prefill: 1 instance of 4x h200_sxm (TP4) = 4 chips' ... '12 chips: Llama-3.1-70B; bf16 weights, ...'."""
    (p_label, d_label), shared = shorten_labels([spec.prefill.describe(), spec.decode.describe()], keep_first=True)
    lines = []
    total = 0
    for role, n, dep, label in (
        ("prefill", spec.prefill_instances, spec.prefill, p_label),
        ("decode", spec.decode_instances, spec.decode, d_label),
    ):
        chips = n * dep.chips_per_replica
        total += chips
        lines.append(f"{role}: {plural(n, 'instance')} of {label} = {plural(chips, 'chip')}")
    lines.append(f"{plural(total, 'chip')} in all" + (f": {shared}" if shared else ""))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------
# --help placeholders
# ---------------------------------------------------------------------------------------------------

_TYPE_WORDS = {"int": "INTEGER", "float": "FLOAT", "str": "TEXT", "Path": "PATH", "bool": ""}


def _metavar(param: Any, ctx: Any) -> str | None:
    if param.metavar is not None:
        return str(param.metavar)
    if getattr(param, "is_flag", False) or getattr(param, "is_bool_flag", False):
        return None
    desc = getattr(param, "type_descriptor", None)
    if desc is not None and getattr(desc, "is_choice", False) and desc.choices:
        return "[" + "|".join(str(getattr(c, "value", c)) for c in desc.choices) + "]"
    try:
        label = param.display_type(ctx)
    except Exception:  # pragma: no cover - a Typer without display_type
        return None
    label = str(label).strip("<>").replace(" range", "")
    repeated = label.startswith("list[")
    label = label.removeprefix("list[").removesuffix("]")
    word = _TYPE_WORDS.get(label, label.upper())
    return f"{word} ..." if repeated and word else word or None


def install_help_metavars() -> None:
    """Show INTEGER / FLOAT / TEXT / PATH (and nothing for flags) instead of Typer's '<int range>',
    '<bool>' placeholders. Typer >= 0.20 only; older versions already print Click's words."""
    try:
        from typer.core import TyperArgument, TyperOption
    except ImportError:  # pragma: no cover
        return
    for cls in (TyperOption, TyperArgument):
        if hasattr(cls, "display_type_rich"):
            cls.display_type_rich = _metavar  # type: ignore[method-assign,assignment]


__all__ = [
    "Column",
    "FittedTable",
    "WideOpt",
    "describe_pools",
    "fmt",
    "frame_table",
    "human_bytes",
    "human_count",
    "install_help_metavars",
    "plural",
    "records_table",
    "set_wide",
    "shorten_labels",
    "table",
]
