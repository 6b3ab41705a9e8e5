"""gdcore's benchmark suite: gdcore against numpy, PyTorch, scikit-learn and micrograd.

Run ``python -m benchmarks [--quick] [--json out.json]`` from the repository root (with
gdcore importable). Every workload of issue 5 is timed for gdcore and for each anchor that
is installed (numpy always; torch, scikit-learn and micrograd when present, else skipped with
a note); the kernels are also timed against a plain C loop that the runner compiles itself.
The result is one table of medians with min-max and the ratios, the peak resident memory
of every training workload per implementation (each in a fresh process: memory.py), the
targets they are measured against, and the machine it ran on. These are measurements, not
tests: nothing here passes or fails.
"""
