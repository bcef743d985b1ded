"""Alias of ``python -m experiments.sweep`` with ``experiment=snr_sweep`` (accuracy vs SNR)."""
from experiments.sweep import alias


def main() -> None:
    alias("snr_sweep")


if __name__ == "__main__":
    main()
