"""Paged KV memory of one replica: free pages, a prefix cache of shared blocks, and slower tiers below.

Pages hold `block_size` tokens (vLLM's PagedAttention blocks). Prefix blocks hold
`prefix_block_tokens` tokens (a whole number of pages) named by chain keys (see `workload.chain_keys`),
like vLLM's hashed blocks or a path in SGLang's radix tree at block granularity. A block is
*referenced* while a running request uses it and *evictable* (LRU, deepest block first, as vLLM
frees a request's blocks tail first) when none does; eviction moves it to the next tier if there is
one (HBM -> host DRAM -> SSD/remote), each tier an LRU of its own capacity. A hit in a lower tier
costs `latency + bytes / bandwidth` to load back.
"""

from __future__ import annotations

from collections import OrderedDict

from inferonomics.errors import InvalidInputError
from inferonomics.serving.config import KVTier


class _Tier:
    __slots__ = ("spec", "blocks", "capacity_blocks", "load_s")

    def __init__(self, spec: KVTier, block_bytes: float) -> None:
        self.spec = spec
        self.blocks: OrderedDict[int, None] = OrderedDict()
        self.capacity_blocks = int(spec.capacity_bytes // block_bytes) if block_bytes > 0 else 0
        self.load_s = block_bytes / spec.bandwidth_bytes_per_s


class BlockPool:
    def __init__(
        self,
        total_pages: int,
        block_size: int,
        prefix_block_tokens: int,
        kv_bytes_per_token: float,
        enabled: bool = True,
        tiers: tuple[KVTier, ...] = (),
    ) -> None:
        if total_pages < 1:
            raise InvalidInputError("the KV cache holds no block")
        if enabled and prefix_block_tokens % block_size:
            raise InvalidInputError(
                f"prefix blocks of {prefix_block_tokens} tokens must be a whole number of {block_size}-token KV blocks"
            )
        self.total_pages = total_pages
        self.free_pages = total_pages
        self.block_size = block_size
        self.prefix_block_tokens = prefix_block_tokens
        self.ppb = max(1, prefix_block_tokens // block_size)
        """Pages per prefix block."""
        self.enabled = enabled
        self.refs: dict[int, int] = {}
        """Prefix blocks in HBM -> number of running requests using them."""
        self.evictable: OrderedDict[int, None] = OrderedDict()
        block_bytes = prefix_block_tokens * kv_bytes_per_token
        self.tiers = [_Tier(t, block_bytes) for t in tiers]
        self.evictions = 0
        self.tier_hits = [0] * len(self.tiers)

    # --- pages ------------------------------------------------------------------------------------
    @property
    def available_pages(self) -> int:
        """Free pages plus pages of evictable cached blocks."""
        return self.free_pages + len(self.evictable) * self.ppb

    @property
    def cached_pages(self) -> int:
        return len(self.refs) * self.ppb

    def alloc(self, n: int) -> bool:
        """Take `n` pages, evicting LRU prefix blocks if needed; False (nothing taken) if impossible."""
        if n <= self.free_pages:
            self.free_pages -= n
            return True
        if n > self.free_pages + len(self.evictable) * self.ppb:
            return False
        while self.free_pages < n:
            self._evict_one()
        self.free_pages -= n
        return True

    def free(self, n: int) -> None:
        self.free_pages += n

    def _evict_one(self) -> None:
        key, _ = self.evictable.popitem(last=False)
        del self.refs[key]
        self.free_pages += self.ppb
        self.evictions += 1
        self._demote(key, 0)

    def _demote(self, key: int, level: int) -> None:
        while level < len(self.tiers):
            tier = self.tiers[level]
            if tier.capacity_blocks <= 0:
                level += 1
                continue
            tier.blocks[key] = None
            tier.blocks.move_to_end(key)
            if len(tier.blocks) <= tier.capacity_blocks:
                return
            key, _ = tier.blocks.popitem(last=False)
            level += 1

    # --- prefix cache -------------------------------------------------------------------------------
    def match(self, keys: tuple[int, ...] | list[int] | None, max_blocks: int) -> tuple[int, int, int]:
        """Cached prefix of `keys` (capped at `max_blocks`), without touching it.

        Returns (blocks matched in any tier, of which in lower tiers, of which evictable in HBM).
        """
        if not self.enabled or not keys:
            return 0, 0, 0
        refs = self.refs
        tiers = self.tiers
        n = min(len(keys), max_blocks)
        lower = evictable = 0
        for j in range(n):
            k = keys[j]
            r = refs.get(k)
            if r is not None:
                if r == 0:
                    evictable += 1
                continue
            if not any(k in t.blocks for t in tiers):
                return j, lower, evictable
            lower += 1
        return n, lower, evictable

    def acquire(self, keys: tuple[int, ...] | list[int], n_blocks: int) -> tuple[int, float]:
        """Reference the first `n_blocks` cached blocks, loading lower-tier ones into HBM.

        HBM-resident blocks are referenced first so that loading the others cannot evict them. Returns
        (blocks acquired, load seconds); stops at the first block that cannot be loaded (no pages).
        """
        refs = self.refs
        evictable = self.evictable
        resident = []
        for j in range(n_blocks):
            k = keys[j]
            r = refs.get(k)
            if r is not None:
                if r == 0:
                    del evictable[k]
                refs[k] = r + 1
                resident.append(True)
            else:
                resident.append(False)
        load_s = 0.0
        for j in range(n_blocks):
            if resident[j]:
                continue
            k = keys[j]
            loaded = False
            for level, tier in enumerate(self.tiers):
                if k in tier.blocks:
                    if self.alloc(self.ppb):
                        del tier.blocks[k]
                        refs[k] = 1
                        load_s += tier.load_s + tier.spec.latency_s
                        self.tier_hits[level] += 1
                        loaded = True
                    break
            if not loaded:  # no pages, or gone since match(): keep the prefix before it
                later = [keys[i] for i in range(j + 1, n_blocks) if resident[i]]
                self.release(later, len(later))
                return j, load_s
        return n_blocks, load_s

    def insert(self, key: int) -> bool:
        """Make a block a request just computed shared. True if it was already cached (the request's
        own pages for it can be freed), False if the request's pages became the cached copy."""
        r = self.refs.get(key)
        if r is not None:
            if r == 0:
                del self.evictable[key]
            self.refs[key] = r + 1
            return True
        self.refs[key] = 1
        for tier in self.tiers:
            tier.blocks.pop(key, None)
        return False

    def release(self, keys: tuple[int, ...] | list[int], n_blocks: int) -> None:
        """Drop one reference to each of the first `n_blocks` blocks; unreferenced ones become evictable,
        the deepest first in LRU order."""
        refs = self.refs
        evictable = self.evictable
        for j in range(n_blocks - 1, -1, -1):
            k = keys[j]
            r = refs[k] - 1
            refs[k] = r
            if r == 0:
                evictable[k] = None

    def check(self, private_pages: int) -> None:
        """Invariant (tests): free + private + cached pages = total."""
        used = private_pages + self.cached_pages
        if used + self.free_pages != self.total_pages:
            raise AssertionError(
                f"KV pages leak: free {self.free_pages} + private {private_pages} + cached "
                f"{self.cached_pages} != total {self.total_pages}"
            )
