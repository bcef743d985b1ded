"""airnet: deliver trained neural networks over noisy wireless links by analog weight transmission (AirNet).

One package per concept: :mod:`~airnet.config` (typed options), :mod:`~airnet.zoo` (models, data sets),
:mod:`~airnet.delivery` (plans, analog transmission, scoring), :mod:`~airnet.side_info` (what the receiver must be
told and how it is paid for), :mod:`~airnet.training` (channel-aware training and model recipes),
:mod:`~airnet.digital` (quantized payloads), :mod:`~airnet.schemes` (the delivery schemes, as plug-ins),
:mod:`~airnet.store` (caches, results), :mod:`~airnet.run` (sweeps, statistics, plots); :mod:`airnet.context` is
the context a scheme works in.
"""
from airnet.delivery import AccuracyStats, TransmissionPlan, accuracy_of_vectors, evaluate_over_channel, transmit_vector
from airnet.training import ChannelNoise, Distillation, TrainSettings, View, train_model
from airnet.zoo import DataSplits, ParamLayout, build_model, load_data, load_vector, model_vector, num_parameters

__all__ = [
    "AccuracyStats", "ChannelNoise", "DataSplits", "Distillation", "ParamLayout", "TrainSettings",
    "TransmissionPlan", "View", "accuracy_of_vectors", "build_model", "evaluate_over_channel", "load_data",
    "load_vector", "model_vector", "num_parameters", "train_model", "transmit_vector",
]
