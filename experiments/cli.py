"""The ``airnet`` console command (``pip install .``): one entry point for the drivers, from any folder.

    airnet sweep [Hydra overrides]            # python -m experiments.sweep (main job: accuracy vs SNR)
    airnet sweep --plan ...                   # the same with plan=true: counts and estimated time, then exit
    airnet snr-sweep | bandwidth-sweep ...    # the two presets' aliases
    airnet figures [--out F] [--paper] ...    # python -m experiments.figures
    airnet rank results.csv ...               # python -m experiments.rank
    airnet contrasts results.csv A-B ...      # python -m experiments.contrasts

Outputs go under the current folder (``outputs/<experiment>/...``, ``figures/``), as with ``python -m`` from a
checkout; every flag and override of the underlying driver works the same (``-m``, ``--cfg job``, ``--help``).
"""
from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "sweep": ("experiments.sweep", "cli"),
    "snr-sweep": ("experiments.snr_sweep", "main"),
    "bandwidth-sweep": ("experiments.bandwidth_sweep", "main"),
    "figures": ("experiments.figures", "main"),
    "rank": ("experiments.rank", "main"),
    "contrasts": ("experiments.contrasts", "main"),
}


def usage() -> str:
    return (__doc__ or "").split("\n\n")[1] if __doc__ else ", ".join(COMMANDS)


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print("usage: airnet <command> [arguments]\n\n" + usage())
        sys.exit(0 if args else 2)
    command, rest = args[0], args[1:]
    if command not in COMMANDS:
        print(f"airnet: unknown command {command!r}; choose one of {', '.join(COMMANDS)}", file=sys.stderr)
        sys.exit(2)
    module, function = COMMANDS[command]
    if command in ("sweep", "snr-sweep", "bandwidth-sweep"):
        rest = ["plan=true" if a == "--plan" else a for a in rest]   # the dry run's flag, as a Hydra override
    sys.argv = [f"airnet {command}", *rest]          # Hydra and argparse read sys.argv
    result = getattr(importlib.import_module(module), function)()
    if command == "figures":
        sys.exit(0 if result else 1)


if __name__ == "__main__":
    main()
