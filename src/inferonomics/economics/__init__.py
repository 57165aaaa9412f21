"""Economics: cost per token, the speed/cost frontier, price sheets derived and read, who serves cheaper,
capacity plans, and mode routing. Everything here asks `perf/` for times; nothing simulates.

    from inferonomics.economics import frontier, token_cost, derive_price_sheet, read_price_sheet
    f = frontier("llama-3.1-70b", "h100_sxm")          # Pareto set, floors, single-user ratio
    f.points                                            # DataFrame
"""

from inferonomics.economics.capacity import (
    CapacityPlan,
    SessionCost,
    TokenRates,
    agents_capacity,
    coding_session,
    voice_capacity,
)
from inferonomics.economics.compare import (
    Comparison,
    HardwareOption,
    compare_sheets,
    hardware_per_dollar,
    lab_vs_provider,
    market_gap,
)
from inferonomics.economics.cost import ContextCosts, TokenCost, context_costs, operating_points, token_cost
from inferonomics.economics.frontier import Frontier, candidate_deployments, frontier, pareto_mask
from inferonomics.economics.modes import (
    EXAMPLE_PORTFOLIO,
    Mode,
    PolicyFrontier,
    RequestClass,
    ServingRates,
    evaluate_policy,
    policy_frontier,
    portfolio_from_dict,
    route_by_value,
)
from inferonomics.economics.ownership import (
    ChipHourCost,
    OwnershipAssumptions,
    chip_hour_cost,
    own_cost,
    rent_cost,
)
from inferonomics.economics.price_sheet import (
    DerivedPriceSheet,
    StorageTier,
    derive_price_sheet,
    storage_tiers,
)
from inferonomics.economics.read_prices import Finding, PriceReading, read_price_sheet

__all__ = [
    "EXAMPLE_PORTFOLIO",
    "CapacityPlan",
    "ChipHourCost",
    "Comparison",
    "ContextCosts",
    "DerivedPriceSheet",
    "Finding",
    "Frontier",
    "HardwareOption",
    "Mode",
    "OwnershipAssumptions",
    "PolicyFrontier",
    "PriceReading",
    "RequestClass",
    "ServingRates",
    "SessionCost",
    "StorageTier",
    "TokenCost",
    "TokenRates",
    "agents_capacity",
    "candidate_deployments",
    "chip_hour_cost",
    "coding_session",
    "compare_sheets",
    "context_costs",
    "derive_price_sheet",
    "evaluate_policy",
    "frontier",
    "hardware_per_dollar",
    "lab_vs_provider",
    "market_gap",
    "operating_points",
    "own_cost",
    "pareto_mask",
    "policy_frontier",
    "portfolio_from_dict",
    "read_price_sheet",
    "rent_cost",
    "route_by_value",
    "storage_tiers",
    "token_cost",
    "voice_capacity",
]
