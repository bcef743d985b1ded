"""Sionna's 5G NR LDPC belief-propagation decoder with syndrome-check early termination.

A practical LDPC receiver stops iterating once its hard decisions satisfy every parity check: further flooding
iterations reinforce a valid codeword rather than leave it. Here a batch stops when *all* its code blocks satisfy
their checks (blocks that never converge still get the full ``num_iter``), so at high SNR a batch takes one or two
iterations instead of twenty. Imported lazily: it imports Sionna.
"""
from __future__ import annotations

import inspect
import logging

import torch

from channels.sionna_import import phy

phy()      # before any sionna import: Sionna without its import-time compiler
from sionna.phy.fec.ldpc import LDPC5GDecoder, LDPC5GEncoder

log = logging.getLogger("airnet")
# the private hook this subclass relies on (Sionna 2.2's torch decoder); other versions decode without early stop
_HOOK = ("self", "msg_v2c", "msg_c2v", "llr_ch", "x_hat", "it")


class EarlyStopLDPC5GDecoder(LDPC5GDecoder):
    """:class:`sionna.phy.fec.ldpc.LDPC5GDecoder` (flooding, hard output) that skips the iterations left once every
    block of the batch satisfies all parity checks of the lifted base graph.

    Parameters
    ----------
    encoder : LDPC5GEncoder
    num_iter : int
        Iterations at most.
    device : str

    Input
    -----
    llr : [..., n], float32
        Channel logits (Sionna's sign convention).

    Output
    ------
    : [..., k], float32 0/1
        Decoded information bits.
    """

    def __init__(self, encoder: LDPC5GEncoder, num_iter: int, device: str = "cpu") -> None:
        super().__init__(encoder, num_iter=num_iter, hard_out=True, device=device)
        self._check_of_edge = torch.as_tensor(self._cn_idx, dtype=torch.long, device=device)
        self._var_of_edge = torch.as_tensor(self._vn_idx, dtype=torch.long, device=device)
        self._converged = False
        self.iterations = 0          # iterations the last call ran (for tests and benchmarks)

    @staticmethod
    def supported() -> bool:
        """Whether the installed Sionna has the decoder internals this class hooks into."""
        return tuple(inspect.signature(LDPC5GDecoder._bp_iter).parameters) == _HOOK

    def call(self, llr_ch: torch.Tensor, /, **kwargs) -> torch.Tensor:
        self._converged = False
        self.iterations = 0
        return super().call(llr_ch, **kwargs)

    def _bp_iter(self, msg_v2c, msg_c2v, llr_ch, x_hat, it):
        # Sionna's loop runs a fixed number of iterations: once converged, the rest pass the state through
        if self._converged:
            return msg_v2c, msg_c2v, x_hat
        msg_v2c, msg_c2v, x_hat = super()._bp_iter(msg_v2c, msg_c2v, llr_ch, x_hat, it)
        self.iterations += 1
        bits = (x_hat <= 0).to(torch.int32)          # x_hat holds LLRs: <= 0 decides 1, as the hard output does
        parity = torch.zeros(bits.shape[0], self._num_cns, dtype=torch.int32, device=bits.device)
        parity.index_add_(1, self._check_of_edge, bits[:, self._var_of_edge])
        self._converged = not bool((parity & 1).any())
        return msg_v2c, msg_c2v, x_hat
