"""Analog delivery of a model: transmission plans (which weights, how many copies), the weights' trip over the
channel (power normalization, pairing, combining of copies), and the accuracy of the received models over K
channel draws."""
from airnet.delivery.evaluation import AccuracyStats, accuracy_of_vectors, evaluate_over_channel
from airnet.delivery.plan import TransmissionPlan, layer_expansion_plan, uniform_expansion_plan
from airnet.delivery.transmit import default_combiner, transmit_vector

__all__ = ["AccuracyStats", "TransmissionPlan", "accuracy_of_vectors", "default_combiner", "evaluate_over_channel",
           "layer_expansion_plan", "transmit_vector", "uniform_expansion_plan"]
