"""transformers side of bench/embed: the model directory loaded with
AutoModel and its tokenizer.json, texts sorted by length in batches of 32,
mean-pooled last hidden states, after one warm-up pass.

    peer.py MODEL_DIR TEXTS_JSON THREADS REPEATS   -> {"median_s", "per_s"}
"""

import json
import sys
import time

import torch
from transformers import AutoModel, PreTrainedTokenizerFast


def embed(model, tok, texts):
    order = sorted(range(len(texts)), key=lambda i: len(tok(texts[i])["input_ids"]))
    out = [None] * len(texts)
    with torch.no_grad():
        for s in range(0, len(order), 32):
            idx = order[s:s + 32]
            batch = tok([texts[i] for i in idx], padding=True, truncation=True, max_length=256, return_tensors="pt")
            hidden = model(**batch).last_hidden_state
            m = batch["attention_mask"].unsqueeze(-1).float()
            pooled = torch.nn.functional.normalize((hidden * m).sum(1) / m.sum(1), dim=-1)
            for j, i in enumerate(idx):
                out[i] = pooled[j]
    return out


def main():
    model_dir, texts_path, threads, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(threads)
    model = AutoModel.from_pretrained(model_dir, attn_implementation="sdpa").eval()
    tok = PreTrainedTokenizerFast(tokenizer_file=f"{model_dir}/tokenizer.json", pad_token="<pad>")
    texts = json.load(open(texts_path))
    embed(model, tok, texts)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        embed(model, tok, texts)
        times.append(time.perf_counter() - start)
    times.sort()
    median = times[len(times) // 2]
    print(json.dumps({"median_s": median, "per_s": len(texts) / median}))


if __name__ == "__main__":
    main()
