"""The model and data zoo: registered models (``mlp``, ``cnn``, ``resnet20``; :func:`register_model`), registered
data sets (``digits`` built in, ``mnist`` / ``cifar10`` from a local folder; :func:`register_dataset`), and the flat
parameter view of a model that AirNet puts on the air (:mod:`airnet.zoo.params`)."""
from airnet.zoo.data import DataSplits, available_datasets, load_data, register_dataset
from airnet.zoo.models import ModelSpec, available_models, build_model, num_parameters, register_model
from airnet.zoo.params import ParamLayout, load_vector, model_vector

__all__ = ["DataSplits", "ModelSpec", "ParamLayout", "available_datasets", "available_models", "build_model",
           "load_data", "load_vector", "model_vector", "num_parameters", "register_dataset", "register_model"]
