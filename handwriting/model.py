"""The network: feature standardisation, a bidirectional LSTM stack, a linear layer and log-softmax.

Output classes follow `handwriting.alphabet` (0 = CTC blank). torch is needed only here
and in training; recognition runs the exported ONNX graph.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

__all__ = ["ModelConfig", "BiLSTMCTC"]


@dataclass(frozen=True)
class ModelConfig:
    num_features: int
    num_classes: int
    hidden: int = 128
    layers: int = 3
    dropout: float = 0.25

    def to_dict(self) -> dict:
        return asdict(self)


class BiLSTMCTC(nn.Module):
    """(batch, time, features) -> (batch, time, classes) log-probabilities."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.register_buffer("feature_mean", torch.zeros(config.num_features))
        self.register_buffer("feature_std", torch.ones(config.num_features))
        self.lstm = nn.LSTM(
            config.num_features,
            config.hidden,
            config.layers,
            batch_first=True,
            bidirectional=True,
            dropout=config.dropout if config.layers > 1 else 0.0,
        )
        self.output = nn.Linear(2 * config.hidden, config.num_classes)

    def forward(self, features: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        x = (features - self.feature_mean) / self.feature_std
        if lengths is None:
            hidden, _ = self.lstm(x)
        else:
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
            hidden, _ = self.lstm(packed)
            hidden, _ = pad_packed_sequence(hidden, batch_first=True, total_length=x.shape[1])
        return torch.log_softmax(self.output(hidden), dim=-1)
