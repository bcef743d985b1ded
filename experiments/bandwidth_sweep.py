"""Alias of ``python -m experiments.sweep`` with ``experiment=bandwidth_sweep`` (accuracy vs bandwidth ratio)."""
from experiments.sweep import alias


def main() -> None:
    alias("bandwidth_sweep")


if __name__ == "__main__":
    main()
