"""Delivery schemes compared in the sweeps, as registered plug-ins only (see :mod:`airnet.schemes.base`); the
library code they use lives in the concept packages.

Importing this package registers the built-in families: single models (``clean``, ``noise_injection``), the
pruned family (``pruning_kd``, ``expansion``, ``uep``), ``spectrum`` and the digital baselines (``digital_capacity``, ``digital_ldpc``, ``digital_amc``,
``digital_layered``).
"""
from airnet.schemes.base import (SCHEMES, Delivery, NoOptions, Scheme, available_schemes, make_scheme,
                                 register_scheme, scheme_class)
from airnet.schemes.analog import AnalogScheme
from airnet.schemes import digital, layered, pruned, single, spectrum  # noqa: F401  (register the built-ins)

__all__ = ["SCHEMES", "AnalogScheme", "Delivery", "NoOptions", "Scheme", "available_schemes", "make_scheme",
           "register_scheme", "scheme_class"]
