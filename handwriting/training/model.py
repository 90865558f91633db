"""The network: feature standardisation, a bidirectional LSTM stack, a linear layer and log-softmax.

Each layer is two unidirectional `nn.LSTM`s; the backward one reads every sequence
reversed *within its own length*, so padded batches are exact without packed sequences
(whose CPU backward pass is several times slower). Output classes follow
`handwriting.alphabet` (0 = CTC blank). torch is needed only here and in training;
recognition runs the exported ONNX graph.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

__all__ = ["ModelConfig", "BiLSTMCTC", "DIRECTIONS"]

DIRECTIONS = ("fw", "bw")  # left-to-right, right-to-left


@dataclass(frozen=True)
class ModelConfig:
    num_features: int
    num_classes: int
    hidden: int = 96
    layers: int = 3
    dropout: float = 0.2

    def to_dict(self) -> dict:
        return asdict(self)


def reverse_within_lengths(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each (batch, time, ...) sequence over its first `lengths[b]` frames; padding stays put."""
    time = torch.arange(x.shape[1], device=x.device)
    lengths = lengths.to(x.device)[:, None]
    index = torch.where(time < lengths, lengths - 1 - time, time)
    return torch.gather(x, 1, index[:, :, None].expand_as(x))


class BiLSTMCTC(nn.Module):
    """(batch, time, features) -> (batch, time, classes) log-probabilities."""

    feature_mean: torch.Tensor
    feature_std: torch.Tensor
    layers: nn.ModuleList

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.register_buffer("feature_mean", torch.zeros(config.num_features))
        self.register_buffer("feature_std", torch.ones(config.num_features))
        self.layers = nn.ModuleList(
            nn.ModuleDict({d: nn.LSTM(config.num_features if i == 0 else 2 * config.hidden, config.hidden, batch_first=True)
                           for d in DIRECTIONS})
            for i in range(config.layers)
        )
        self.dropout = nn.Dropout(config.dropout)
        self.output = nn.Linear(2 * config.hidden, config.num_classes)

    def forward(self, features: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        if lengths is None:
            lengths = torch.full((features.shape[0],), features.shape[1], dtype=torch.long)
        x = (features - self.feature_mean) / self.feature_std
        for i, layer in enumerate(self.layers):
            assert isinstance(layer, nn.ModuleDict)
            if i:
                x = self.dropout(x)
            forward, _ = layer["fw"](x)
            backward, _ = layer["bw"](reverse_within_lengths(x, lengths))
            x = torch.cat([forward, reverse_within_lengths(backward, lengths)], dim=-1)
        return torch.log_softmax(self.output(x), dim=-1)
