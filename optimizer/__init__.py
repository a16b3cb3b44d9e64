"""County health-facility siting and staffing: exact, certified integer programs."""

__version__ = "0.1.0"
