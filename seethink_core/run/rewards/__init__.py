"""Rewards (docs/architecture.md §8): a phase's rewards combined into one, graded in worker processes.

One module per job: ``scores`` calls one reward on some samples and checks what it returned;
``worker`` is the code that runs inside a worker process; ``pool`` starts and watches those workers
from the caller's side; ``combine`` builds a phase's reward and combines its components;
``watch`` counts failures over a phase; ``checks`` is preflight's gold/wrong-answer check;
``errors`` holds their exceptions.
"""
