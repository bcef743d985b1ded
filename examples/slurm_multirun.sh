#!/usr/bin/env bash
# Three training seeds x two channels as SLURM jobs (pip install -e ".[slurm]"; edit conf/hydra/launcher/slurm.yaml
# for your partition). The jobs of a channel share a folder (each writes its own shard; results.csv merges them),
# and a resubmission skips finished points.
#
#   bash examples/slurm_multirun.sh                       # on a SLURM login node
#   LAUNCHER=submitit_local bash examples/slurm_multirun.sh train.epochs=1 experiment.snr_db=[0,10]   # no cluster
#   SEEDS='[0],[1]' ...                                   # other seeds (one job each)
set -euo pipefail
python -m experiments.sweep -m "hydra/launcher=${LAUNCHER:-slurm}" \
    "experiment.seeds=${SEEDS:-[0],[1],[2]}" channel=awgn,rayleigh \
    hydra.sweep.dir="${OUT:-outputs/slurm}" 'hydra.sweep.subdir=${channel.name}' "$@"
