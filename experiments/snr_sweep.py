"""Accuracy vs SNR for each delivery scheme: ``python -m experiments.snr_sweep`` (Hydra; ``-m`` for multirun)."""
from __future__ import annotations

import logging

import hydra
from omegaconf import DictConfig

from airnet.plotting import plot_accuracy
from airnet.results import ResultTable
from experiments.common import KEY_COLUMNS, build_setup, config_id, output_dir, run_points, scheme_names, value_list

log = logging.getLogger("airnet")


def main(cfg: DictConfig) -> ResultTable:
    """Run the sweep; write results.csv and accuracy_vs_snr.{png,pdf} into the job's output folder."""
    out = output_dir()
    setup = build_setup(cfg)
    snrs = value_list(cfg.experiment.snr_db, "experiment.snr_db")
    ratio = value_list(cfg.experiment.bandwidth_ratio, "experiment.bandwidth_ratio")[0]
    schemes = scheme_names(cfg)
    table = ResultTable(out / "results.csv", KEY_COLUMNS)
    run_points(cfg, setup, [(s, ratio) for s in snrs], schemes, table)
    cid = config_id(cfg)
    rows = [r for r in table.rows if r["config_id"] == cid and float(r["bandwidth_ratio"]) == ratio
            and r["scheme"] in schemes]
    title = (f"{cfg.model.name} on {cfg.data.name}, {cfg.channel.name} channel, bandwidth ratio {ratio:g}, "
             f"{setup.num_realizations} realizations")
    paths = plot_accuracy(rows, "snr_db", out / "accuracy_vs_snr", title=title, xlabel="SNR (dB)",
                          chance=1.0 / setup.data.num_classes)
    log.info("results: %s; plot: %s", table.path, ", ".join(map(str, paths)))
    return table


@hydra.main(config_path="../conf", config_name="snr_sweep", version_base="1.3")
def _entry(cfg: DictConfig) -> None:
    main(cfg)


if __name__ == "__main__":
    _entry()
