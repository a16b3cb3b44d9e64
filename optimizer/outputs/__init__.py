"""What every run folder shares: solution.json / manifest / summary heads (common) and the GIS writer (layers)."""
