"""The sentence-transformers side of tests/minilm_parity.rs.

    st_parity.py MODEL_DIR IN OUT   load MODEL_DIR with SentenceTransformer on the CPU and
                                    write, for the texts of IN (a JSON list), their token ids
                                    (padding removed) and sentence embeddings to OUT as JSON
"""

import json
import sys

try:
    from sentence_transformers import SentenceTransformer
except ImportError as e:
    sys.exit(f"sentence-transformers does not import ({e}): `source scripts/env.sh` installs it into the project venv")


def main(model_dir, texts_path, out):
    model = SentenceTransformer(model_dir, device="cpu")
    texts = json.load(open(texts_path))
    features = model.preprocess(texts)
    ids = [
        [i for i, m in zip(row, mask) if m]
        for row, mask in zip(features["input_ids"].tolist(), features["attention_mask"].tolist())
    ]
    embeddings = model.encode(texts, batch_size=8, convert_to_numpy=True)
    json.dump({"ids": ids, "embeddings": embeddings.tolist()}, open(out, "w"))


if __name__ == "__main__":
    main(*sys.argv[1:4])
