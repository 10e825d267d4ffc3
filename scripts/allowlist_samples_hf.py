"""Samples from the Hugging Face stack, written by the frameworks' own save paths.

Every model is built from a tiny config made here (no hub, no download). Each sample is
``(name, group, writer, build)``; the group names the evidence file under allowlist_evidence/.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

# Tiny sizes shared by every config: a model of a few thousand parameters.
_TINY = {"vocab_size": 64, "hidden_size": 16, "num_attention_heads": 2, "intermediate_size": 32}


def _tiny_configs() -> list[Any]:
    from transformers import AutoConfig

    layers = {"num_hidden_layers": 1}
    configs = [
        AutoConfig.for_model("bert", **_TINY, **layers),
        AutoConfig.for_model("roberta", **_TINY, **layers),
        AutoConfig.for_model(
            "distilbert", vocab_size=64, dim=16, n_heads=2, hidden_dim=32, n_layers=1
        ),
        AutoConfig.for_model(
            "gpt2", vocab_size=64, n_embd=16, n_head=2, n_layer=1, n_positions=32,
            bos_token_id=0, eos_token_id=0,
        ),
        AutoConfig.for_model("llama", **_TINY, **layers, num_key_value_heads=1),
        AutoConfig.for_model("mistral", **_TINY, **layers, num_key_value_heads=1),
        AutoConfig.for_model("qwen2", **_TINY, **layers, num_key_value_heads=1),
        AutoConfig.for_model(
            "t5", vocab_size=64, d_model=16, d_kv=8, d_ff=32, num_layers=1, num_heads=2
        ),
        AutoConfig.for_model(
            "bart", vocab_size=64, d_model=16, encoder_layers=1, decoder_layers=1,
            encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32,
            decoder_ffn_dim=32,
        ),
        AutoConfig.for_model(
            "vit", hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
            intermediate_size=32, image_size=8, patch_size=4,
        ),
        AutoConfig.for_model(
            "whisper", vocab_size=64, d_model=16, encoder_layers=1, decoder_layers=1,
            encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32,
            decoder_ffn_dim=32, num_mel_bins=8, max_source_positions=16, max_target_positions=16,
            pad_token_id=0, bos_token_id=1, eos_token_id=2, decoder_start_token_id=1,
            suppress_tokens=[], begin_suppress_tokens=[],
        ),
        AutoConfig.for_model(
            "clip", text_config={**_TINY, **layers}, projection_dim=8,
            vision_config={"hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
                           "intermediate_size": 32, "image_size": 8, "patch_size": 4},
        ),
    ]  # fmt: skip
    return configs


def _tiny_models() -> list[Any]:
    from transformers import AutoModel, AutoModelForCausalLM

    models = [AutoModel.from_config(c) for c in _tiny_configs()]
    causal = [c for c in _tiny_configs() if c.model_type in {"gpt2", "llama"}]
    return models + [AutoModelForCausalLM.from_config(c) for c in causal]


def _state_dicts() -> Any:
    return {type(m).__name__: m.state_dict() for m in _tiny_models()}


def _full_models() -> Any:
    return _tiny_models()


class _Tokens:
    """A map-style dataset of random token ids, as a Trainer consumes it."""

    def __init__(self, length: int) -> None:
        import torch

        self.ids = torch.randint(0, 64, (length, 8))

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return {"input_ids": self.ids[index], "labels": self.ids[index]}


def _trainer_checkpoint(out: Path) -> None:
    """Two Trainer steps: checkpoint-2 holds training_args.bin, optimizer.pt, scheduler.pt,
    rng_state.pth exactly as the Trainer writes them."""
    from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

    config = next(c for c in _tiny_configs() if c.model_type == "gpt2")
    args = TrainingArguments(
        output_dir=str(out),
        max_steps=2,
        save_steps=2,
        per_device_train_batch_size=2,
        report_to=[],
        use_cpu=True,
        logging_steps=1,
        lr_scheduler_type="cosine",
        warmup_steps=1,
        disable_tqdm=True,
    )
    model = AutoModelForCausalLM.from_config(config)
    Trainer(model=model, args=args, train_dataset=_Tokens(4)).train()


def _training_args() -> Any:
    from transformers import Seq2SeqTrainingArguments, TrainingArguments

    return [
        TrainingArguments(output_dir="out", report_to=[], use_cpu=True),
        TrainingArguments(
            output_dir="out",
            report_to=[],
            use_cpu=True,
            debug="underflow_overflow",
            eval_strategy="epoch",
            save_strategy="epoch",
            hub_strategy="end",
            optim="adafactor",
        ),
        Seq2SeqTrainingArguments(output_dir="out", report_to=[], use_cpu=True),
    ]


def _generation_and_configs() -> Any:
    from transformers import GenerationConfig, PretrainedConfig

    return {
        "configs": _tiny_configs(),
        "base": PretrainedConfig(),
        "generation": GenerationConfig(max_new_tokens=4),
    }


def _accelerate_state(out: Path) -> None:
    """Accelerator.save_state: optimizer.bin, scheduler.bin, random_states_0.pkl."""
    import torch
    from accelerate import Accelerator

    accelerator = Accelerator(cpu=True)
    model = torch.nn.Linear(4, 4)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    loader = torch.utils.data.DataLoader(torch.zeros(4, 4), batch_size=2, shuffle=True)
    model, optimizer, scheduler, loader = accelerator.prepare(model, optimizer, scheduler, loader)
    for batch in loader:
        accelerator.backward(model(batch).sum())
        optimizer.step()
        scheduler.step()
    accelerator.save_state(str(out / "state"), safe_serialization=False)


def _unet() -> Any:
    from diffusers import UNet2DModel

    return UNet2DModel(
        sample_size=8,
        in_channels=1,
        out_channels=1,
        layers_per_block=1,
        block_out_channels=(8, 16),
        norm_num_groups=4,
        down_block_types=("DownBlock2D", "AttnDownBlock2D"),
        up_block_types=("AttnUpBlock2D", "UpBlock2D"),
    )


def _diffusers_schedulers() -> Any:
    import pickle

    import diffusers
    from diffusers import SchedulerMixin

    found = []
    for name in sorted(dir(diffusers)):
        if not name.endswith("Scheduler") or name.startswith("Flax"):
            continue
        cls = getattr(diffusers, name)
        if isinstance(cls, type) and issubclass(cls, SchedulerMixin):
            try:
                scheduler = cls()
                pickle.dumps(scheduler)
            except Exception:  # noqa: S112 - needs arguments, or holds a lambda
                continue
            found.append(scheduler)
    return found


def _diffusers_objects() -> Any:
    from diffusers import DDPMPipeline, DDPMScheduler
    from diffusers.training_utils import EMAModel

    unet = _unet()
    return {
        "unet": unet,
        "pipeline": DDPMPipeline(unet=unet, scheduler=DDPMScheduler()),
        "ema": EMAModel(unet.parameters()).state_dict(),
        "config": unet.config,
    }


def _diffusers_training_state() -> Any:
    import torch
    from diffusers.optimization import get_scheduler

    unet = _unet()
    optimizer = torch.optim.AdamW(unet.parameters(), lr=1e-4)
    scheduler = get_scheduler("cosine", optimizer, num_warmup_steps=1, num_training_steps=4)
    return {"unet": unet.state_dict(), "optimizer": optimizer.state_dict(),
            "lr_scheduler": scheduler.state_dict()}  # fmt: skip


def _peft_model() -> Any:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    config = next(c for c in _tiny_configs() if c.model_type == "llama")
    lora = LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
    return get_peft_model(AutoModelForCausalLM.from_config(config), lora)


def _peft_adapter(out: Path) -> None:
    _peft_model().save_pretrained(str(out), safe_serialization=False)


def _peft_objects() -> Any:
    from peft import get_peft_model_state_dict

    model = _peft_model()
    return {"adapter": get_peft_model_state_dict(model), "config": model.peft_config}


def _timm_checkpoint(out: Path) -> None:
    """timm's CheckpointSaver as train.py uses it: state dict, optimizer, args Namespace, EMA."""
    import argparse

    import timm
    import timm.optim
    import torch
    from timm.utils import CheckpointSaver, ModelEmaV3

    model = timm.create_model("resnet18", pretrained=False, num_classes=4)
    optimizer = timm.optim.create_optimizer_v2(model, "adamw", lr=1e-3)
    args = argparse.Namespace(model="resnet18", lr=1e-3, epochs=1, amp=False, opt="adamw")
    saver = CheckpointSaver(
        model, optimizer, args=args, model_ema=ModelEmaV3(model), amp_scaler=None,
        checkpoint_dir=str(out), recovery_dir=str(out), max_history=1,
    )  # fmt: skip
    model(torch.zeros(2, 3, 32, 32)).sum().backward()
    optimizer.step()
    saver.save_checkpoint(epoch=0, metric=0.5)
    saver.save_recovery(epoch=0, batch_idx=1)


def _timm_models() -> Any:
    import timm

    names = (
        "resnet18",
        "vit_tiny_patch16_224",
        "efficientnet_b0",
        "convnext_atto",
        "mobilenetv3_small_050",
    )
    return [timm.create_model(n, pretrained=False, num_classes=4) for n in names]


def _sentence_transformer() -> Any:
    import tempfile

    from sentence_transformers import SentenceTransformer, models
    from tokenizers import Tokenizer, pre_tokenizers
    from tokenizers.models import WordLevel
    from transformers import AutoModel, PreTrainedTokenizerFast

    config = next(c for c in _tiny_configs() if c.model_type == "bert")
    pad, unk = "[PAD]", "[UNK]"
    vocab = {w: i for i, w in enumerate([pad, unk, "[CLS]", "[SEP]", "a", "b"])}
    rust = Tokenizer(WordLevel(vocab, unk_token=unk))
    rust.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=rust, pad_token=pad, unk_token=unk)
    with tempfile.TemporaryDirectory() as tmp:
        AutoModel.from_config(config).save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        encoder = models.Transformer(tmp, max_seq_length=8)
    pooling = models.Pooling(encoder.get_word_embedding_dimension(), "mean")
    return SentenceTransformer(modules=[encoder, pooling, models.Normalize()], device="cpu")


def _sentence_objects() -> Any:
    model = _sentence_transformer()
    return {"model": model, "state": model.state_dict()}


SAMPLES: list[tuple[str, str, str, Callable[..., Any]]] = [
    ("transformers pytorch_model.bin state dicts", "transformers", "torch", _state_dicts),
    ("transformers full model objects", "transformers", "torch", _full_models),
    ("transformers Trainer checkpoint dir", "transformers", "files", _trainer_checkpoint),
    ("transformers training_args.bin", "transformers", "torch", _training_args),
    ("transformers configs", "transformers", "pickle", _generation_and_configs),
    ("accelerate save_state dir", "accelerate", "files", _accelerate_state),
    ("diffusers schedulers", "diffusers", "torch", _diffusers_schedulers),
    ("diffusers schedulers (pickle)", "diffusers", "pickle", _diffusers_schedulers),
    ("diffusers UNet, pipeline, EMA", "diffusers", "torch", _diffusers_objects),
    ("diffusers training state", "diffusers", "torch", _diffusers_training_state),
    ("peft adapter_model.bin dir", "peft", "files", _peft_adapter),
    ("peft adapter state and config", "peft", "torch", _peft_objects),
    ("peft full model object", "peft", "torch", _peft_model),
    ("timm CheckpointSaver dir", "timm", "files", _timm_checkpoint),
    ("timm full model objects", "timm", "torch", _timm_models),
    ("sentence-transformers model", "sentence_transformers", "torch", _sentence_objects),
]
