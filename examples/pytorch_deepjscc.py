"""The channel layer in a plain PyTorch training loop: a small DeepJSCC autoencoder sends digits images over a
Rayleigh block-fading channel and learns to survive it (no airnet code involved, only ``channels``).

    python examples/pytorch_deepjscc.py [--epochs 30] [--snr-db 10] [--channel rayleigh]

Each image becomes 16 reals = 8 complex channel uses (a bandwidth ratio of 8/64); the channel layer
power-normalizes each sample, pairs two reals per channel use, fades, adds noise and equalizes (MMSE).
"""
from __future__ import annotations

import argparse

import torch
from torch import nn

from channels import ChannelLayer, make_channel


def main(argv: list[str] | None = None) -> float:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--snr-db", type=float, default=10.0)
    ap.add_argument("--channel", default="rayleigh")
    args = ap.parse_args(argv)

    from airnet.zoo.data import digits_arrays        # the built-in data; any [N, 64] images in [0, 1] will do
    images, _ = digits_arrays()
    x = torch.tensor(images.reshape(len(images), -1) / 16.0, dtype=torch.float32)
    train, test = x[:1500], x[1500:]

    torch.manual_seed(0)
    channel = ChannelLayer(make_channel(args.channel, block_length=4), snr_db=args.snr_db,
                           generator=torch.Generator().manual_seed(0))
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 16),   # encoder: 16 reals
                          channel,                                             # the noisy link
                          nn.Linear(16, 128), nn.ReLU(), nn.Linear(128, 64), nn.Sigmoid())
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for epoch in range(args.epochs):
        for batch in train[torch.randperm(len(train))].split(64):
            loss = nn.functional.mse_loss(model(batch), batch)
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        mse = float(nn.functional.mse_loss(model(test), test))
        channel.set_snr_db(args.snr_db + 10.0)                 # the same network at a better SNR
        better = float(nn.functional.mse_loss(model(test), test))
    psnr = lambda m: 10 * torch.log10(torch.tensor(1.0 / m)).item()  # noqa: E731
    print(f"test PSNR at {args.snr_db:g} dB: {psnr(mse):.2f} dB; at {args.snr_db + 10:g} dB: {psnr(better):.2f} dB")
    return psnr(mse)


if __name__ == "__main__":
    main()
