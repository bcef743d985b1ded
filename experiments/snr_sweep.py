"""Alias of ``python -m experiments.sweep`` with ``experiment=snr_sweep`` (accuracy vs SNR)."""
from experiments.sweep import alias

if __name__ == "__main__":
    alias("snr_sweep")
