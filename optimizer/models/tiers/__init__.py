"""Village-clinic tiers (中心村卫生室 / 一般村卫生室 / 服务点): a tiered location-allocation MILP."""
