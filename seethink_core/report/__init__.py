"""What a run leaves to look at: progress bars, the end-of-run table, reports, plots and sweeps."""
