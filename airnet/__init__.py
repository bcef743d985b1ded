"""airnet: deliver trained neural networks over noisy wireless links by analog weight transmission (AirNet)."""
from airnet.data import DataSplits, load_data
from airnet.evaluation import AccuracyStats, accuracy_of_vectors, evaluate_over_channel
from airnet.models import build_model, num_parameters
from airnet.noise_injection import ChannelNoise
from airnet.params import ParamLayout, load_vector, model_vector
from airnet.training import Distillation, TrainSettings, View, train_model
from airnet.transmission import TransmissionPlan, transmit_vector

__all__ = [
    "AccuracyStats", "ChannelNoise", "DataSplits", "Distillation", "ParamLayout", "TrainSettings",
    "TransmissionPlan", "View", "accuracy_of_vectors", "build_model", "evaluate_over_channel", "load_data",
    "load_vector", "model_vector", "num_parameters", "train_model", "transmit_vector",
]
