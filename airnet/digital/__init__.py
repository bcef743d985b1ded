"""The digital separation side: uniform per-layer quantization (and its quantization-aware training noise) and
payloads of pruned, quantized models with their side information and erasure model."""
from airnet.digital.payload import Payload, build_payload, rank_payloads, validation_accuracy
from airnet.digital.quantization import QuantizationNoise, Quantized, quantize

__all__ = ["Payload", "QuantizationNoise", "Quantized", "build_payload", "quantize", "rank_payloads",
           "validation_accuracy"]
