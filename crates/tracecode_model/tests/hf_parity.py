"""The `transformers` side of the parity tests (tests/parity.rs).

    hf_parity.py make DIR        a tiny random RobertaModel saved by transformers in DIR,
                                 plus DIR/expected.json: input ids and last hidden states
    hf_parity.py embed DIR IN OUT  load DIR (a TraceCode export) with AutoModel and its
                                 tokenizer.json; mean-pooled states of the texts in IN (JSON
                                 list) written to OUT as JSON
"""

import json
import sys

import torch
from transformers import AutoModel, PreTrainedTokenizerFast, RobertaConfig, RobertaModel


def make(out):
    torch.manual_seed(0)
    config = RobertaConfig(
        vocab_size=300,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=128,
        max_position_embeddings=66,
        type_vocab_size=1,
        pad_token_id=1,
    )
    model = RobertaModel(config).eval()
    # Random non-trivial LayerNorm parameters and biases, so a misplaced one shows.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm" in name or name.endswith("bias"):
                p.add_(torch.randn_like(p) * 0.1)
    model.save_pretrained(out, safe_serialization=True)
    ids = torch.tensor([[0, 17, 45, 99, 2, 1, 1], [0, 5, 6, 7, 8, 9, 2]])
    mask = (ids != 1).long()
    with torch.no_grad():
        hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
    json.dump({"ids": ids.tolist(), "mask": mask.tolist(), "hidden": hidden.tolist()}, open(f"{out}/expected.json", "w"))


def embed(model_dir, texts_path, out):
    model = AutoModel.from_pretrained(model_dir).eval()
    tok = PreTrainedTokenizerFast(tokenizer_file=f"{model_dir}/tokenizer.json", pad_token="<pad>")
    texts = json.load(open(texts_path))
    batch = tok(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    m = batch["attention_mask"].unsqueeze(-1).float()
    pooled = (hidden * m).sum(1) / m.sum(1)
    json.dump({"ids": batch["input_ids"].tolist(), "pooled": pooled.tolist()}, open(out, "w"))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        embed(sys.argv[2], sys.argv[3], sys.argv[4])
