"""Alias of ``python -m experiments.sweep`` with ``experiment=bandwidth_sweep`` (accuracy vs bandwidth ratio)."""
from experiments.sweep import alias

if __name__ == "__main__":
    alias("bandwidth_sweep")
