"""p-median and p-center siting: problem, solve, outputs."""
