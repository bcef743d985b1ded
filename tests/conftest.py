import pytest
import torch

torch.set_num_threads(2)


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(1234)


@pytest.fixture(scope="session")
def digits():
    from airnet.data import load_data
    return load_data("digits", seed=0)
