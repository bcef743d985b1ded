"""MNIST or CIFAR-10 from a local folder (nothing is downloaded), through the sweep driver.

    python examples/local_data.py mnist /data/mnist [overrides ...]
    python examples/local_data.py cifar10 /data/cifar [overrides ...]

Layouts read (any one):

    /data/mnist/train-images-idx3-ubyte[.gz]   train-labels-idx1-ubyte[.gz]
                t10k-images-idx3-ubyte[.gz]    t10k-labels-idx1-ubyte[.gz]
                (or the same under raw/ or MNIST/raw/, as torchvision leaves them)
    /data/cifar/cifar-10-batches-py/data_batch_1 .. data_batch_5, test_batch   (the "python version" pickles)

A malformed file is named with its problem before any training; CIFAR batches are read without running code
from them (an allow-list unpickler). Same as ``python -m experiments.sweep data=<name> data.root=<folder>``.
"""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 2 or args[0] not in ("mnist", "cifar10"):
        sys.exit("usage: python examples/local_data.py mnist|cifar10 FOLDER [overrides ...]")
    name, root, overrides = args[0], args[1], args[2:]
    model = "model=cnn" if name == "mnist" else "model=resnet20"
    sys.argv = ["local_data", f"data={name}", f"data.root={root}", model, *overrides]
    from experiments.sweep import cli
    cli()


if __name__ == "__main__":
    main()
