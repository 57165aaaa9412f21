"""The engine knobs as CLI options, defined once for `predict`, `simulate`, `search` and `validate`.

Each defaults to None: the engine's own default from `inferonomics.perf.engines.ENGINE_POLICIES`
(`inferonomics engines` prints the table).
"""

from __future__ import annotations

from typing import Annotated

import typer

from inferonomics.perf.engines import EngineArgs

GpuMemoryUtilization = Annotated[
    float | None,
    typer.Option(
        "--gpu-memory-utilization",
        help="Memory fraction of the engine (vLLM gpu_memory_utilization, SGLang mem_fraction_static, "
        "TensorRT-LLM free_gpu_memory_fraction); default: the engine's.",
    ),
]
MaxNumSeqs = Annotated[
    int | None,
    typer.Option(
        "--max-num-seqs", "--max-batch-size", help="Most requests running per replica; default: the engine's."
    ),
]
MaxNumBatchedTokens = Annotated[
    int | None,
    typer.Option(
        "--max-num-batched-tokens",
        "--max-tokens-per-iter",
        help="Token budget of one iteration; default: the engine's (the fitted budget for vllm/sglang).",
    ),
]
BlockSize = Annotated[int | None, typer.Option("--block-size", help="KV block size, tokens; default: the engine's.")]


def engine_args_from(
    gpu_memory_utilization: float | None,
    max_num_seqs: int | None,
    max_num_batched_tokens: int | None,
    block_size: int | None,
    base: EngineArgs | None = None,
) -> EngineArgs:
    """The options given, over `base` (e.g. a recorded run's engine arguments)."""
    b = base or EngineArgs()
    return EngineArgs(
        gpu_memory_utilization=b.gpu_memory_utilization if gpu_memory_utilization is None else gpu_memory_utilization,
        max_num_seqs=b.max_num_seqs if max_num_seqs is None else max_num_seqs,
        max_num_batched_tokens=b.max_num_batched_tokens if max_num_batched_tokens is None else max_num_batched_tokens,
        block_size=b.block_size if block_size is None else block_size,
    )
