"""Ordinary remote code, written for pellucid in the style of transformers modeling and
tokenization files, must not raise HIGH or MEDIUM findings (false positives are the first
thing users of peer scanners complain about)."""

from __future__ import annotations

import textwrap

import pytest

from pellucid.model import Artifact, FileKind, Severity
from pellucid.scanners.base import ScanContext
from pellucid.scanners.python_code import PythonCodeScanner
from pellucid.source import ByteSource

CONFIGURATION = '''\
"""Tiny model configuration."""
from transformers import PretrainedConfig


class TinyConfig(PretrainedConfig):
    model_type = "tiny"
    keys_to_ignore_at_inference = ["past_key_values"]

    def __init__(self, vocab_size=32000, hidden_size=256, num_layers=2, rope_theta=10000.0,
                 tie_word_embeddings=False, **kwargs):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.rope_theta = rope_theta
        super().__init__(tie_word_embeddings=tie_word_embeddings, **kwargs)
'''

MODELING = '''\
# coding=utf-8
"""PyTorch Tiny model."""
import math
import os
import warnings
from dataclasses import dataclass
from typing import Optional, Tuple, Union

import torch
import torch.nn.functional as F
import torch.utils.checkpoint
from torch import nn

from transformers.activations import ACT2FN
from transformers.modeling_outputs import BaseModelOutputWithPast
from transformers.modeling_utils import PreTrainedModel
from transformers.utils import logging

from .configuration_tiny import TinyConfig

logger = logging.get_logger(__name__)
_USE_FLASH = os.environ.get("TINY_USE_FLASH", "0") == "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"


@dataclass
class TinyOutput(BaseModelOutputWithPast):
    aux_loss: Optional[torch.FloatTensor] = None


class TinyRMSNorm(nn.Module):
    def __init__(self, hidden_size, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.variance_epsilon = eps

    def forward(self, hidden_states):
        variance = hidden_states.to(torch.float32).pow(2).mean(-1, keepdim=True)
        hidden_states = hidden_states * torch.rsqrt(variance + self.variance_epsilon)
        return self.weight * hidden_states


class TinyRotaryEmbedding(nn.Module):
    def __init__(self, dim, base=10000.0):
        super().__init__()
        inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2).float() / dim))
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    @torch.no_grad()
    def forward(self, x, position_ids):
        freqs = position_ids[:, :, None].float() * self.inv_freq[None, None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(x.dtype), emb.sin().to(x.dtype)


class TinyAttention(nn.Module):
    def __init__(self, config: TinyConfig, layer_idx: Optional[int] = None):
        super().__init__()
        self.head_dim = config.hidden_size // 4
        self.q_proj = nn.Linear(config.hidden_size, config.hidden_size, bias=False)
        self.o_proj = nn.Linear(config.hidden_size, config.hidden_size, bias=False)
        self.act = ACT2FN[getattr(config, "hidden_act", "silu")]
        if layer_idx is None:
            warnings.warn("layer_idx is recommended", stacklevel=2)

    def forward(self, hidden_states, attention_mask=None, eval=False):
        query = self.q_proj(hidden_states)
        if _USE_FLASH:
            out = F.scaled_dot_product_attention(query, query, query, attn_mask=attention_mask)
        else:
            scores = query @ query.transpose(-1, -2) / math.sqrt(self.head_dim)
            out = torch.softmax(scores, dim=-1) @ query
        return self.o_proj(out)


class TinyPreTrainedModel(PreTrainedModel):
    config_class = TinyConfig
    base_model_prefix = "model"
    supports_gradient_checkpointing = True

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            module.weight.data.normal_(mean=0.0, std=0.02)
            for name, value in {"tiny_initialized": True}.items():
                setattr(module, name, value)


class TinyModel(TinyPreTrainedModel):
    def __init__(self, config: TinyConfig):
        super().__init__(config)
        self.layers = nn.ModuleList([TinyAttention(config, i) for i in range(config.num_layers)])
        self.norm = TinyRMSNorm(config.hidden_size)
        self.post_init()

    def forward(self, inputs_embeds: torch.Tensor) -> Union[Tuple, TinyOutput]:
        hidden = inputs_embeds
        for layer in self.layers:
            if self.gradient_checkpointing and self.training:
                hidden = torch.utils.checkpoint.checkpoint(layer, hidden)
            else:
                hidden = layer(hidden)
        return TinyOutput(last_hidden_state=self.norm(hidden))

    def load_adapter_weights(self, path):
        state = torch.load(path, map_location="cpu", weights_only=True)
        self.load_state_dict(state, strict=False)
        self.eval()
        self.compiled = torch.compile(self)
'''

TOKENIZATION = '''\
"""Tokenization for Tiny (byte-level BPE)."""
import json
import os
import re
from functools import lru_cache
from typing import List, Optional, Tuple

from transformers.tokenization_utils import PreTrainedTokenizer

VOCAB_FILES_NAMES = {"vocab_file": "vocab.json", "merges_file": "merges.txt"}
PRETOKENIZE = re.compile(r"""'s|'t|'re| ?\\w+| ?\\d+| ?[^\\s\\w\\d]+|\\s+""")


@lru_cache()
def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\\xa1"), ord("\\xac") + 1))
    cs = bs[:]
    n = 0
    for b in range(2**8):
        if b not in bs:
            bs.append(b)
            cs.append(2**8 + n)
            n += 1
    cs = [chr(n) for n in cs]
    return dict(zip(bs, cs))


class TinyTokenizer(PreTrainedTokenizer):
    vocab_files_names = VOCAB_FILES_NAMES
    model_input_names = ["input_ids", "attention_mask"]

    def __init__(self, vocab_file, merges_file, errors="replace", **kwargs):
        with open(vocab_file, encoding="utf-8") as vocab_handle:
            self.encoder = json.load(vocab_handle)
        with open(merges_file, "r", encoding="utf-8") as merges_handle:
            merges = merges_handle.read().split("\\n")[1:-1]
        self.bpe_ranks = dict(zip([tuple(m.split()) for m in merges], range(len(merges))))
        self.byte_encoder = bytes_to_unicode()
        self.byte_decoder = {v: k for k, v in self.byte_encoder.items()}
        super().__init__(errors=errors, **kwargs)

    def _tokenize(self, text: str) -> List[str]:
        return ["".join(self.byte_encoder[b] for b in t.encode("utf-8"))
                for t in re.findall(PRETOKENIZE, text)]

    def convert_tokens_to_string(self, tokens):
        text = "".join(tokens)
        return bytearray([self.byte_decoder[c] for c in text]).decode("utf-8", errors="replace")

    def save_vocabulary(self, save_directory: str, prefix: Optional[str] = None) -> Tuple[str]:
        if not os.path.isdir(save_directory):
            return ()
        vocab_file = os.path.join(save_directory, (prefix or "") + "vocab.json")
        with open(vocab_file, "w", encoding="utf-8") as f:
            f.write(json.dumps(self.encoder, indent=2, sort_keys=True, ensure_ascii=False) + "\\n")
        return (vocab_file,)
'''


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("configuration_tiny.py", CONFIGURATION),
        ("modeling_tiny.py", MODELING),
        ("tokenization_tiny.py", TOKENIZATION),
    ],
)
def test_transformers_style_code_has_no_medium_or_high_findings(name: str, code: str) -> None:
    data = textwrap.dedent(code).encode()
    result = PythonCodeScanner().scan(
        Artifact(name, FileKind.PYTHON, len(data)), ByteSource(data), ScanContext()
    )
    loud = [
        (f.rule_id, f.evidence.line, f.evidence.snippet)
        for f in result.findings
        if f.severity >= Severity.MEDIUM
    ]
    assert loud == []
    assert result.incomplete == ()


def test_tokenizer_save_vocabulary_write_is_reported_low() -> None:
    data = TOKENIZATION.encode()
    result = PythonCodeScanner().scan(
        Artifact("t.py", FileKind.PYTHON, len(data)), ByteSource(data), ScanContext()
    )
    assert [(f.rule_id, f.severity) for f in result.findings] == [("PCL-PY-006", Severity.LOW)]
    assert "save_vocabulary" in result.findings[0].detail
