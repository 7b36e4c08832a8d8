"""Serving cost of RecBole's NextItNet or SASRec in this (fresh) process: top-20 over all items.

Run by `tools/benchmark_inference.py --peer_python=<python with recbole and torch>` with the
python of a RecBole environment (nothing of skiprec_tf is imported); prints one JSON line:
the seconds of each full pass at `--batch_size` and the milliseconds of each single request.

The model is RecBole's own class (built as `recbole_train.py` builds it, in eval mode, its
weights as initialised: a request's cost does not depend on them), served as RecBole serves a
user: `full_sort_predict` (the last position's scores of all V + 1 ids) and `torch.topk` of 20,
under `torch.inference_mode`. The `[n, t - 1]` inputs of `--sequences` (0 = padding on the
left, as the project's) are moved to RecBole's layout, items first and the length beside them.

  /work/recbole_venv/bin/python tools/peers/recbole_serve.py --sequences=/tmp/inputs.npy \
      --num_items=3651 --model=sasrec_plus --embedding_dim=64 --num_blocks=32 --num_heads=2
"""

import argparse
import json
import time

import numpy as np
from recbole_train import Catalogue, all_position_models, recbole_config, torch_set_up

TOP_K = 20


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sequences", required=True, help=".npy of [n, t - 1] input ids.")
    parser.add_argument("--num_items", type=int, required=True, help="V: items are 1..V.")
    parser.add_argument("--model", choices=["nextitnet_plus", "sasrec_plus"], required=True)
    parser.add_argument("--embedding_dim", type=int, default=64)
    parser.add_argument("--num_blocks", type=int, default=32)
    parser.add_argument("--num_heads", type=int, default=2)
    parser.add_argument("--batch_size", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3, help="Timed full passes.")
    parser.add_argument("--single_requests", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1, help="torch threads; 0: its default.")
    args = parser.parse_args()
    args.dropout = 0.0
    return args


def right_aligned(inputs: np.ndarray):
    """RecBole's layout of left-padded inputs: the items first, zeros after; and the lengths."""
    lengths = (inputs != 0).sum(axis=1)
    aligned = np.zeros_like(inputs)
    for row, (sequence, length) in enumerate(zip(inputs, lengths)):
        aligned[row, :length] = sequence[len(sequence) - length :]
    return aligned, np.maximum(lengths, 1)


def main():
    args = parse_args()
    torch = torch_set_up(args.threads, seed=0)
    inputs, lengths = right_aligned(np.load(args.sequences).astype(np.int64))
    model_class = all_position_models()[args.model]
    model = model_class(recbole_config(args, inputs.shape[1]), Catalogue(args.num_items))
    model.eval()

    def serve(rows):
        interaction = {
            model.ITEM_SEQ: torch.from_numpy(inputs[rows]),
            model.ITEM_SEQ_LEN: torch.from_numpy(lengths[rows]),
        }
        return torch.topk(model.full_sort_predict(interaction), TOP_K).indices.numpy()

    batches = [slice(i, i + args.batch_size) for i in range(0, len(inputs), args.batch_size)]
    singles = [slice(i, i + 1) for i in range(min(args.single_requests, len(inputs)))]
    with torch.inference_mode():
        serve(batches[0])  # warm-up
        serve(singles[0])
        pass_seconds, latencies_ms = [], []
        for _ in range(args.rounds):
            start = time.perf_counter()
            for rows in batches:
                serve(rows)
            pass_seconds.append(time.perf_counter() - start)
        for rows in singles:
            start = time.perf_counter()
            serve(rows)
            latencies_ms.append(1000 * (time.perf_counter() - start))
    result = {
        "side": "peer",
        "model": f"recbole.{model_class.__bases__[0].__name__}",
        "pass_seconds": pass_seconds,
        "latencies_ms": latencies_ms,
        "sequences": len(inputs),
        "torch_threads": torch.get_num_threads(),
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
