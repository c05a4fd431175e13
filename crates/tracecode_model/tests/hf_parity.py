"""The `transformers` side of the parity tests (tests/parity.rs).

    hf_parity.py make DIR        a tiny random RobertaModel saved by transformers in DIR,
                                 plus DIR/expected.json: input ids and last hidden states
    hf_parity.py embed DIR IN OUT  load DIR (a TraceCode export) with AutoModel and its
                                 tokenizer.json; mean-pooled states of the texts in IN (JSON
                                 list) written to OUT as JSON
    hf_parity.py make_mlm DIR    a tiny random RobertaForMaskedLM saved in DIR, plus
                                 DIR/expected.json: input ids and logits at every position
    hf_parity.py mlm DIR IN OUT  load DIR (a TraceCode masked LM) with AutoModelForMaskedLM;
                                 logits of the ids in IN (JSON list of lists) written to OUT,
                                 with the weights transformers had to initialise itself
"""

import json
import sys

import torch
from transformers import (
    AutoModel,
    AutoModelForMaskedLM,
    PreTrainedTokenizerFast,
    RobertaConfig,
    RobertaForMaskedLM,
    RobertaModel,
)


def tiny_config():
    return RobertaConfig(
        vocab_size=300,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=128,
        max_position_embeddings=66,
        type_vocab_size=1,
        pad_token_id=1,
    )


def perturb(model):
    """Random non-trivial LayerNorm parameters and biases, so a misplaced one shows."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm" in name or "layer_norm" in name or name.endswith("bias"):
                p.add_(torch.randn_like(p) * 0.1)


def make(out):
    torch.manual_seed(0)
    model = RobertaModel(tiny_config()).eval()
    perturb(model)
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


def make_mlm(out):
    torch.manual_seed(1)
    model = RobertaForMaskedLM(tiny_config()).eval()
    perturb(model)
    model.save_pretrained(out, safe_serialization=True)
    ids = torch.tensor([[0, 17, 4, 99, 2, 1, 1], [0, 5, 6, 4, 8, 9, 2]])
    mask = (ids != 1).long()
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask).logits
    json.dump({"ids": ids.tolist(), "mask": mask.tolist(), "logits": logits.tolist()}, open(f"{out}/expected.json", "w"))


def mlm(model_dir, ids_path, out):
    model, info = AutoModelForMaskedLM.from_pretrained(model_dir, output_loading_info=True)
    model.eval()
    ids = torch.tensor(json.load(open(ids_path)))
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits
    json.dump({"logits": logits.tolist(), "missing": sorted(info["missing_keys"])}, open(out, "w"))


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "make":
        make(sys.argv[2])
    elif command == "make_mlm":
        make_mlm(sys.argv[2])
    elif command == "mlm":
        mlm(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        embed(sys.argv[2], sys.argv[3], sys.argv[4])
