"""PyTorch side of bench/train: the same static-only training step as
crates/tracecode_model/examples/bench_train.rs, in Python: transformers'
RobertaModel of the same preset, mean pooling, the code head MLP, symmetric
InfoNCE (tau 0.05), backward, gradient clipping, AdamW.

    peer.py PRESET BATCH TOKENS STEPS THREADS   -> {"median_s", "tokens_per_s"}
"""

import json
import sys
import time

import torch
import torch.nn.functional as F
from transformers import RobertaConfig, RobertaModel

PRESETS = {"tiny": (2, 64, 4, 258), "small": (4, 256, 4, 514), "base": (12, 768, 12, 514)}


def main():
    preset, batch, tokens, steps, threads = sys.argv[1], *map(int, sys.argv[2:6])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    layers, hidden, heads, positions = PRESETS[preset]
    vocab = 8000
    config = RobertaConfig(vocab_size=vocab, hidden_size=hidden, num_hidden_layers=layers,
                           num_attention_heads=heads, intermediate_size=4 * hidden,
                           max_position_embeddings=positions, type_vocab_size=1, pad_token_id=1,
                           attn_implementation="sdpa")
    encoder = RobertaModel(config).train()
    head = torch.nn.Sequential(torch.nn.Linear(hidden, hidden), torch.nn.GELU(), torch.nn.Linear(hidden, 256))
    params = list(encoder.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.01)
    times = []
    for step in range(steps):
        ids = torch.randint(5, vocab, (2 * batch, tokens))
        mask = torch.ones_like(ids)
        start = time.perf_counter()
        opt.zero_grad()
        hidden_states = encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        m = mask.unsqueeze(-1).float()
        pooled = (hidden_states * m).sum(1) / m.sum(1)
        emb = F.normalize(head(pooled), dim=-1)
        a, p = emb[:batch], emb[batch:]
        target = torch.arange(batch)
        loss = (F.cross_entropy(a @ p.T / 0.05, target) + F.cross_entropy(p @ a.T / 0.05, target)) / 2
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if step >= 2:
            times.append(time.perf_counter() - start)
    times.sort()
    median = times[len(times) // 2]
    print(json.dumps({"median_s": median, "tokens_per_s": 2 * batch * tokens / median}))


if __name__ == "__main__":
    main()
