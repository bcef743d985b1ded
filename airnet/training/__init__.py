"""Training for the channel: the loop over the flat parameter vector, noise injection, knowledge distillation,
pruning (magnitude, structured, RigL), spectrum training with nested networks, UEP sensitivity, and the model
recipes (clean, noise-injected, pruned, spectrum) a scheme starts from (:mod:`airnet.training.recipes`)."""
from airnet.training.loop import Distillation, TrainSettings, View, train_model
from airnet.training.noise import ChannelNoise
from airnet.training.recipes import Recipes

__all__ = ["ChannelNoise", "Distillation", "Recipes", "TrainSettings", "View", "train_model"]
