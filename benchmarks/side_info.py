"""Side-information coding: channel uses of the robust LDPC and polar configurations for 50..5,000 bits at
-10..10 dB on AWGN, each against the finite-blocklength normal approximation (Polyanskiy-Poor-Verdu, block error
1e-2, the whole message as one block) measured in the same run; ``nr`` sends the cheaper of the two (polar only up
to NR's 1,706-bit control payloads).

Not timings: the figures are channel uses. The ratio says how far each code is from the normal approximation; the
robust rule is "every one of ``link.selection_trials`` (64) trial blocks decodes", a block error rate of about 1e-2.
"""
from __future__ import annotations

from benchmarks.common import Figure

BITS = (50, 100, 200, 500, 1000, 5000)
SNRS = (-10.0, -5.0, 0.0, 5.0, 10.0)


def run(quick: bool = False) -> list[Figure]:
    from omegaconf import OmegaConf

    from channels import make_channel
    from airnet.config.options import build_options
    from airnet.config.run import SideInfoOptions
    from airnet.side_info.protection import NR_POLAR_MAX_BITS, LinkOptions, SideLink
    from airnet.side_info.transports import CapacityTransport
    from experiments.sweep import CONF_DIR

    link = build_options(LinkOptions, OmegaConf.to_container(OmegaConf.load(f"{CONF_DIR}/link/nr.yaml")), "link")
    ch = make_channel("awgn")
    side = SideLink(ch, "awgn", SideInfoOptions("counted", "nr", "design", 0.0), link)
    figs = []
    for bits in BITS[:3] if quick else BITS:
        for snr in SNRS[1:4] if quick else SNRS:
            normal = CapacityTransport.for_bits(ch, snr, bits, "normal", 1e-2)
            ref = normal.channel_uses if normal is not None else float("nan")
            codes = {"LDPC": side.ldpc_transport(bits, snr), "polar": side.polar_transport(bits, snr)}
            for name, t in codes.items():
                if t is not None:
                    figs.append(Figure(f"{bits:>5} bits at {snr:>5g} dB: {name}", t.channel_uses, ref, "uses",
                                       "normal approximation", t.describe()))
            usable = {k: t for k, t in codes.items() if t is not None and (k == "LDPC" or bits <= NR_POLAR_MAX_BITS)}
            if usable:
                pick = min(usable, key=lambda k: usable[k].channel_uses)
                figs.append(Figure(f"{bits:>5} bits at {snr:>5g} dB: nr picks {pick}", usable[pick].channel_uses, ref,
                                   "uses", "normal approximation", ""))
    return figs
