"""One RecBole model trained to early stopping and tested, on sequences the project wrote.

Run by `tools/peer_accuracy.py --peer_python=<python with recbole and torch>` with the python of a
RecBole environment (it imports torch and recbole, nothing of skiprec_tf). Reads the project's
split (`--data`: train, valid, test `[n, t]` item ids, 0 = padding on the left, and V), trains
RecBole's own model class with the project's loss (every position's next item, full softmax over
all items: `recbole_train.all_position_models`), evaluates on validation after every epoch as the
project does (the last item of each sequence from the items before it, its rank among all V items,
ties counted against it), stops after `--patience` epochs without a better validation MRR@5, and
writes the test ranks of the best epoch's weights to `--out` (.npz).

RecBole's SASRec reads a sequence's last item at `item_seq_len - 1` with the items
first and the padding after (RecBole's own layout): the sequences are right-aligned for them.
RecBole's NextItNet reads position -1 (its `forward` keeps `[:, -1]`), so it gets the project's
left padding, which its causal convolutions never see after an item; so do GRU4Rec (all positions
of its GRU) and Caser (the latest L items of every position).

Resumable: after every epoch the model, the optimizer, torch's random state and the history go to
`<out>.checkpoint.pt`; a run started again with the same arguments continues from there.
"""

import argparse
import copy
import json
import os
import time

import numpy as np
from recbole_train import Catalogue, all_position_models, recbole_config, torch_set_up

# RecBole's layout of a sequence: items first, padding after (`gather_indexes(item_seq_len - 1)`).
RIGHT_ALIGNED = {"sasrec_plus"}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help=".npz of train, valid, test, num_items.")
    parser.add_argument("--out", required=True, help=".npz written at the end.")
    parser.add_argument("--model", choices=sorted(all_position_models()), required=True)
    parser.add_argument("--embedding_dim", type=int, default=64)
    parser.add_argument("--num_blocks", type=int, default=2, help="layers or residual blocks")
    parser.add_argument("--num_heads", type=int, default=2)
    parser.add_argument("--gru_layers", type=int, default=1)
    parser.add_argument("--caser_window", type=int, default=5)
    parser.add_argument("--caser_horizontal_filters", type=int, default=16)
    parser.add_argument("--caser_vertical_filters", type=int, default=4)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--batch_size", type=int, default=128)
    parser.add_argument("--eval_batch_size", type=int, default=1024)
    parser.add_argument("--learning_rate", type=float, default=1e-3)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--patience", type=int, default=5, help="0: every epoch.")
    parser.add_argument("--threads", type=int, default=1, help="torch threads; 0: its default.")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


def right_aligned(sequences: np.ndarray) -> np.ndarray:
    """The rows with their items first and their padding (0) after, in order."""
    order = np.argsort(sequences == 0, axis=1, kind="stable")
    return np.take_along_axis(sequences, order, axis=1)


def next_item_batch(model, rows, torch):
    """RecBole's interaction of `[b, t]` rows, inputs `rows[:, :-1]` and targets `rows[:, 1:]`
    (a position whose input or target is padding is left out of the loss)."""
    batch = torch.from_numpy(rows)
    inputs = batch[:, :-1]
    return {
        model.ITEM_SEQ: inputs,
        model.ITEM_SEQ_LEN: (inputs != 0).sum(dim=1).clamp(min=1),
        "targets": batch[:, 1:],
    }


def last_items(rows: np.ndarray):
    """(`[b]` each row's last item, the rows with it replaced by padding)."""
    last = np.max(np.where(rows != 0, np.arange(rows.shape[1]), -1), axis=1)
    every = np.arange(len(rows))
    targets, prefixes = rows[every, last], rows.copy()
    prefixes[every, last] = 0
    return targets, prefixes


def target_ranks(model, sequences: np.ndarray, batch_size: int, torch) -> np.ndarray:
    """1-based rank of each sequence's last item among all V items (column 0, padding, left
    out), ties counted against it, from `full_sort_predict` of the items before it."""
    model.eval()
    ranks = []
    with torch.inference_mode():
        for start in range(0, len(sequences), batch_size):
            targets, prefixes = last_items(sequences[start : start + batch_size])
            # The prefix's last column is padding either way: the target's (left padding) or
            # one after it (right-aligned).
            interaction = next_item_batch(model, prefixes, torch)
            scores = model.full_sort_predict(interaction)[:, 1:]
            target_scores = scores.gather(1, torch.from_numpy(targets - 1)[:, None])
            ranks.append((scores >= target_scores).sum(dim=1).numpy())
    model.train()
    return np.concatenate(ranks).astype(np.int32)


def mrr_at_5(ranks: np.ndarray) -> float:
    return float(np.mean(np.where(ranks <= 5, 1.0 / ranks, 0.0)))


def main():
    args = parse_args()
    torch = torch_set_up(args.threads, args.seed)
    with np.load(args.data) as data:
        splits = {name: data[name].astype(np.int64) for name in ("train", "valid", "test")}
        num_items = int(data["num_items"])
    if args.model in RIGHT_ALIGNED:
        splits = {name: right_aligned(rows) for name, rows in splits.items()}
    config = recbole_config(args, splits["train"].shape[1] - 1)
    model = all_position_models()[args.model](config, Catalogue(num_items))
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.learning_rate)
    checkpoint_file = args.out + ".checkpoint.pt"
    state = {"epoch": 0, "history": [], "best": None, "best_mrr": -1.0, "best_epoch": 0}
    if os.path.exists(checkpoint_file):
        saved = torch.load(checkpoint_file, weights_only=False)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        torch.set_rng_state(saved["rng"])
        state = saved["state"]
        print(f"Resumed after epoch {state['epoch']}", flush=True)
    train = splits["train"]
    patience = args.patience or args.epochs
    while state["epoch"] < args.epochs and state["epoch"] - state["best_epoch"] < patience:
        epoch = state["epoch"] + 1
        begin, losses = time.perf_counter(), []
        order = np.random.default_rng([args.seed, epoch]).permutation(len(train))
        for start in range(0, len(order), args.batch_size):
            optimizer.zero_grad()
            loss = model.calculate_loss(
                next_item_batch(model, train[order[start : start + args.batch_size]], torch)
            )
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        seconds = time.perf_counter() - begin
        valid_mrr = mrr_at_5(target_ranks(model, splits["valid"], args.eval_batch_size, torch))
        state["history"].append(
            {"epoch": epoch, "loss": float(np.mean(losses)), "val_mrr_at_5": valid_mrr,
             "seconds": seconds, "seq_per_s": len(train) / seconds}
        )  # fmt: skip
        if valid_mrr > state["best_mrr"]:
            state.update(
                best=copy.deepcopy(model.state_dict()), best_mrr=valid_mrr, best_epoch=epoch
            )
        state["epoch"] = epoch
        print(json.dumps({"epoch_done": state["history"][-1]}), flush=True)
        torch.save(
            {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
             "rng": torch.get_rng_state(), "state": state},
            checkpoint_file + ".tmp",
        )  # fmt: skip
        os.replace(checkpoint_file + ".tmp", checkpoint_file)
    model.load_state_dict(state["best"])
    test_ranks = target_ranks(model, splits["test"], args.eval_batch_size, torch)
    np.savez(
        args.out + ".tmp.npz",
        test_ranks=test_ranks,
        best_epoch=state["best_epoch"],
        best_valid_mrr_at_5=state["best_mrr"],
        history=json.dumps(state["history"]),
        model=f"recbole.{type(model).__bases__[0].__name__}",
        params=sum(p.numel() for p in model.parameters() if p.requires_grad),
    )
    os.replace(args.out + ".tmp.npz", args.out)
    os.remove(checkpoint_file)


if __name__ == "__main__":
    main()
