"""Covering models (LSCP, MCLP, PSCLP, compositions, phased roll-out): problem, solve, Benders, greedy, evaluation."""
