"""Turn files and road networks into arrays: demand, sites, zones and travel-time matrices."""
