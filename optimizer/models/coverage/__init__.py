"""Covering models (LSCP, MCLP, PSCLP, compositions, phased roll-out): problem, prechecks, build, method, solve, certify, Benders, greedy, evaluation."""
