"""The block pool: pages, prefix blocks with LRU eviction (deepest first), and lower tiers."""

from __future__ import annotations

import pytest

from inferonomics.errors import InvalidInputError
from inferonomics.serving import KVTier
from inferonomics.serving.kv_cache import BlockPool


def pool(total: int = 64, tiers: tuple[KVTier, ...] = ()) -> BlockPool:
    return BlockPool(total, 16, 64, kv_bytes_per_token=1000.0, enabled=True, tiers=tiers)  # 4 pages per block


def test_alloc_and_free() -> None:
    p = pool()
    assert p.alloc(60) and not p.alloc(5) and p.free_pages == 4
    p.free(60)
    assert p.free_pages == 64
    p.check(0)


def test_insert_match_release_evict_lru_deepest_first() -> None:
    p = pool(total=16)  # room for 4 blocks
    keys = (11, 12, 13)
    assert p.alloc(12)  # a request computes 3 blocks
    for k in keys:
        assert p.insert(k) is False  # its pages become the cached copies
    p.check(0)
    assert p.match(keys, 10) == (3, 0, 0)
    p.release(keys, 3)
    assert p.match(keys, 10) == (3, 0, 3)  # all evictable now
    assert p.available_pages == 16
    assert p.alloc(12)  # evicts two blocks: the deepest ones first
    assert list(p.refs) == [11] and p.evictions == 2
    assert p.match(keys, 10) == (1, 0, 1)


def test_duplicate_insert_shares_the_cached_copy() -> None:
    p = pool()
    p.alloc(4)
    p.insert(7)
    p.alloc(4)
    assert p.insert(7) is True and p.refs[7] == 2  # the caller frees its own 4 pages


def test_acquire_loads_from_a_lower_tier_at_bandwidth() -> None:
    host = KVTier("host", capacity_bytes=10 * 64 * 1000.0, bandwidth_bytes_per_s=1e6, latency_s=0.001)
    p = pool(total=8, tiers=(host,))  # 2 blocks in HBM
    for k in (1, 2, 3):
        assert p.alloc(4)
        p.insert(k)
        p.release((k,), 1)
    # block 1 was evicted to the host tier to make room for block 3
    assert set(p.refs) == {2, 3} and list(p.tiers[0].blocks) == [1]
    assert p.match((1, 2, 3), 3) == (3, 1, 2)
    got, load_s = p.acquire((1, 2), 2)  # loading 1 must evict 3, never 2 (which this request uses)
    assert got == 2 and load_s == pytest.approx(64 * 1000.0 / 1e6 + 0.001)
    assert p.tier_hits == [1] and p.refs == {1: 1, 2: 1} and list(p.tiers[0].blocks) == [3]
    p.check(0)


def test_acquire_stops_where_hbm_runs_out_and_keeps_the_prefix_contiguous() -> None:
    host = KVTier("host", capacity_bytes=10 * 64 * 1000.0, bandwidth_bytes_per_s=1e6)
    p = pool(total=8, tiers=(host,))
    for k in (1, 2, 3):
        assert p.alloc(4)
        p.insert(k)
        p.release((k,), 1)
    assert p.alloc(4)  # someone holds the other half of HBM: 3 goes down too
    got, _ = p.acquire((1, 2, 3), 3)
    assert got == 0 and all(r == 0 for r in p.refs.values())  # 1 cannot load: nothing is kept referenced


def test_tier_capacity_is_lru_and_spills_down() -> None:
    t1 = KVTier("dram", capacity_bytes=1 * 64 * 1000.0, bandwidth_bytes_per_s=1e9)
    t2 = KVTier("ssd", capacity_bytes=1 * 64 * 1000.0, bandwidth_bytes_per_s=1e8)
    p = pool(total=4, tiers=(t1, t2))  # one block in HBM
    for k in (1, 2, 3):
        assert p.alloc(4)
        p.insert(k)
        p.release((k,), 1)
    assert list(p.refs) == [3] and list(p.tiers[0].blocks) == [2] and list(p.tiers[1].blocks) == [1]


def test_prefix_blocks_must_be_whole_pages() -> None:
    with pytest.raises(InvalidInputError):
        BlockPool(10, 16, 100, 1.0, enabled=True)
    BlockPool(10, 16, 100, 1.0, enabled=False)  # fine when the prefix cache is off
