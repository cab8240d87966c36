"""Running a plan: the phase loop, the run directory, data order, rewards, evaluation, checkpoints."""
