"""Configuration as data: typed option objects built from plain mappings (every bad key or value named by its path),
the run and experiment options, and stable config hashes. No Hydra: library users get the same objects."""
from airnet.config.hashing import config_hash
from airnet.config.options import OptionError, build_options, options_dict
from airnet.config.run import ExperimentOptions, RunOptions, value_list

__all__ = ["ExperimentOptions", "OptionError", "RunOptions", "build_options", "config_hash", "options_dict",
           "value_list"]
