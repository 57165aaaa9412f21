"""Case-insensitive look-up by name or alias, with the closest names on a miss."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import TypeVar

from inferonomics.errors import UnknownNameError

T = TypeVar("T")


def normalise(name: str) -> str:
    """Lower-case and fold separators so 'Llama-3.1_70B' and 'llama 3.1 70b' meet."""
    return "".join(ch for ch in name.lower().strip() if ch.isalnum() or ch in "./")


def build_index(entries: Iterable[tuple[T, Iterable[str]]]) -> dict[str, T]:
    """Map every normalised name and alias to its entry; a name given twice is a catalog bug."""
    index: dict[str, T] = {}
    for entry, names in entries:
        for name in names:
            key = normalise(name)
            if key in index and index[key] is not entry:
                raise ValueError(f"catalog name {name!r} is used twice")
            index[key] = entry
    return index


def lookup(index: Mapping[str, T], kind: str, name: str, display_names: Iterable[str]) -> T:
    """Find `name` in `index` (case and separators ignored), or raise with suggestions."""
    key = normalise(name)
    if key in index:
        return index[key]
    # An org-less Hugging Face id ('Llama-3.1-70B' for 'meta-llama/Llama-3.1-70B').
    tail_matches = {id(v): v for k, v in index.items() if k.rsplit("/", 1)[-1] == key}
    if len(tail_matches) == 1:
        return next(iter(tail_matches.values()))
    names = sorted(set(display_names))
    by_key = {normalise(n): n for n in names}
    close = difflib.get_close_matches(key, list(by_key), n=5, cutoff=0.5)
    if not close:
        close = [k for k in by_key if key and (key in k or k in key)][:5]
    raise UnknownNameError(kind, name, [by_key[c] for c in close])
