"""Many runs of one case: parameter sweeps, batches of cases, a Dask cluster."""
