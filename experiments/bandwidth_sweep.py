"""Accuracy vs bandwidth ratio at fixed SNRs: ``python -m experiments.bandwidth_sweep`` (Hydra)."""
from __future__ import annotations

import logging

import hydra
from omegaconf import DictConfig

from airnet.plotting import plot_accuracy
from airnet.results import ResultTable
from experiments.common import KEY_COLUMNS, build_setup, config_id, output_dir, run_points, scheme_names, value_list

log = logging.getLogger("airnet")


def main(cfg: DictConfig) -> ResultTable:
    """Run the sweep; write results.csv and accuracy_vs_bandwidth.{png,pdf} (one panel per SNR)."""
    out = output_dir()
    setup = build_setup(cfg)
    snrs = value_list(cfg.experiment.snr_db, "experiment.snr_db")
    ratios = value_list(cfg.experiment.bandwidth_ratio, "experiment.bandwidth_ratio")
    schemes = scheme_names(cfg)
    table = ResultTable(out / "results.csv", KEY_COLUMNS)
    run_points(cfg, setup, [(s, r) for r in ratios for s in snrs], schemes, table)
    cid = config_id(cfg)
    rows = [r for r in table.rows if r["config_id"] == cid and r["scheme"] in schemes
            and float(r["snr_db"]) in snrs and float(r["bandwidth_ratio"]) in ratios]
    title = f"{cfg.model.name} on {cfg.data.name}, {cfg.channel.name} channel, {setup.num_realizations} realizations"
    paths = plot_accuracy(rows, "bandwidth_ratio", out / "accuracy_vs_bandwidth", title=title,
                          xlabel="bandwidth ratio (channel uses / full-model channel uses)", panel="snr_db",
                          chance=1.0 / setup.data.num_classes)
    log.info("results: %s; plot: %s", table.path, ", ".join(map(str, paths)))
    return table


@hydra.main(config_path="../conf", config_name="bandwidth_sweep", version_base="1.3")
def _entry(cfg: DictConfig) -> None:
    main(cfg)


if __name__ == "__main__":
    _entry()
