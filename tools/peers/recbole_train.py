"""One timed training run of RecBole's NextItNet or SASRec in this (fresh) process.

Run by `tools/benchmark_peers.py --peer_python=<python with recbole and torch>` with the python of
a RecBole environment (never the project's: it imports torch and recbole, and nothing of
skiprec_tf); prints one JSON line: seq_per_s, peak_rss_mib, steps, ...

The model is RecBole's own class, built directly from a minimal config dict (no RecBole dataset
or trainer) with loss_type "CE" and no dropout (`--dropout` 0), then trained by a plain loop:
Adam, forward, loss, backward, step, over shuffled batches of the `[n, t]` sequences of
`--sequences`, each epoch's last batch partial, as the project's pipeline. The first `--warmup_steps` steps are not
timed.

The loss is the project's, not RecBole's: RecBole's NextItNet and SASRec score only the last
position (`forward` keeps `[:, -1]` or `gather_indexes(item_seq_len - 1)`); the subclasses below
override `calculate_loss` to score every position's hidden state against all items (RecBole's CE
logits: hidden @ item_embedding.weight^T, V + 1 columns) and take the mean cross-entropy of each
position's next item over the positions whose input and target are items (ignore_index=0), as
the project's Eq. 4. Their layers and `forward` up to the last position are RecBole's.

  /work/recbole_venv/bin/python tools/peers/recbole_train.py --sequences=/tmp/seqs.npy \
      --num_items=3651 --model=nextitnet_plus --embedding_dim=64 --num_blocks=32 --steps=20
"""

import argparse
import json
import resource
import time

import numpy as np

# The project's model names and the RecBole model each is compared with.
PEERS = {"nextitnet_plus": "NextItNet", "sasrec_plus": "SASRec"}


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sequences", required=True, help=".npy of [n, t] ids (0 = padding).")
    parser.add_argument("--num_items", type=int, required=True, help="V: items are 1..V.")
    parser.add_argument("--model", choices=sorted(PEERS), default="nextitnet_plus")
    parser.add_argument("--embedding_dim", type=int, default=64)
    parser.add_argument("--num_blocks", type=int, default=32)
    parser.add_argument("--num_heads", type=int, default=2)
    parser.add_argument("--dropout", type=float, default=0.0, help="SASRec's dropout.")
    parser.add_argument("--batch_size", type=int, default=256)
    parser.add_argument("--learning_rate", type=float, default=1e-3)
    parser.add_argument("--warmup_steps", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1, help="torch threads; 0: its default.")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.warmup_steps < 1 or args.steps < 1:
        parser.error("--warmup_steps and --steps must be positive")
    return args


def recbole_config(args, input_length: int) -> dict:
    """The config entries RecBole's SequentialRecommender and the model read."""
    config = {
        "USER_ID_FIELD": "user_id",
        "ITEM_ID_FIELD": "item_id",
        "LIST_SUFFIX": "_list",
        "ITEM_LIST_LENGTH_FIELD": "item_length",
        "NEG_PREFIX": "neg_",
        "MAX_ITEM_LIST_LENGTH": input_length,
        "device": "cpu",
        "loss_type": "CE",
    }
    if args.model == "nextitnet_plus":
        # The project's dilations 1, 4, 1, 4, ... (a block's convolutions use r and 2r, as
        # RecBole's ResidualBlock_b), one list entry per block.
        dilations = [(1, 4)[i % 2] for i in range(args.num_blocks)]
        config.update(
            embedding_size=args.embedding_dim,
            block_num=1,
            dilations=dilations,
            kernel_size=3,
            reg_weight=0.0,
        )
    elif args.model == "gru4rec":
        config.update(
            embedding_size=args.embedding_dim,
            hidden_size=args.embedding_dim,
            num_layers=args.gru_layers,
            dropout_prob=args.dropout,
        )
    elif args.model == "caser":
        config.update(
            MAX_ITEM_LIST_LENGTH=args.caser_window,
            embedding_size=args.embedding_dim,
            nh=args.caser_horizontal_filters,
            nv=args.caser_vertical_filters,
            dropout_prob=args.dropout,
            reg_weight=0.0,
        )
    else:
        config.update(
            n_layers=args.num_blocks,
            n_heads=args.num_heads,
            hidden_size=args.embedding_dim,
            inner_size=4 * args.embedding_dim,  # the project's FFN width
            hidden_dropout_prob=args.dropout,
            attn_dropout_prob=args.dropout,
            hidden_act="gelu",
            layer_norm_eps=1e-12,
            initializer_range=0.02,
        )
    return config


class Catalogue:
    """What RecBole's models ask of a dataset: the number of ids of a field (V + 1, 0 = padding),
    and of users (Caser's user embedding): one, user 0, whose embedding is RecBole's padding
    row, zero and never trained, since the project's sequences carry no user."""

    user_num = 1

    def __init__(self, num_items: int):
        self.num_items = num_items

    def num(self, field):
        return self.num_items + 1


def all_position_models():
    """RecBole's NextItNet, SASRec, GRU4Rec and Caser with the project's loss: every position's
    next item."""
    import torch
    from recbole.model.sequential_recommender.caser import Caser
    from recbole.model.sequential_recommender.gru4rec import GRU4Rec
    from recbole.model.sequential_recommender.nextitnet import NextItNet
    from recbole.model.sequential_recommender.sasrec import SASRec

    def next_item_ce(model, hidden, item_seq, targets):
        """Mean CE over all items of each position's next item, at positions whose input and
        target are items (0 is padding)."""
        logits = torch.matmul(hidden, model.item_embedding.weight.transpose(0, 1))
        targets = targets.masked_fill(item_seq == 0, 0)
        return torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=0
        )

    class AllPositionNextItNet(NextItNet):
        def calculate_loss(self, interaction):
            item_seq = interaction[self.ITEM_SEQ]
            # NextItNet.forward without its [:, -1]: final_layer of every position.
            hidden = self.final_layer(self.residual_blocks(self.item_embedding(item_seq)))
            # reg_weight = 0: RecBole's RegLoss terms would be multiplied by 0 and are left out.
            return next_item_ce(self, hidden, item_seq, interaction["targets"])

    class AllPositionSASRec(SASRec):
        def calculate_loss(self, interaction):
            item_seq = interaction[self.ITEM_SEQ]
            # SASRec.forward without its gather_indexes(item_seq_len - 1).
            positions = torch.arange(item_seq.size(1), dtype=torch.long, device=item_seq.device)
            positions = positions.unsqueeze(0).expand_as(item_seq)
            hidden = self.item_embedding(item_seq) + self.position_embedding(positions)
            hidden = self.dropout(self.LayerNorm(hidden))
            mask = self.get_attention_mask(item_seq)
            hidden = self.trm_encoder(hidden, mask, output_all_encoded_layers=True)[-1]
            return next_item_ce(self, hidden, item_seq, interaction["targets"])

    class AllPositionGRU4Rec(GRU4Rec):
        def calculate_loss(self, interaction):
            item_seq = interaction[self.ITEM_SEQ]
            # GRU4Rec.forward without its gather_indexes. Left padding is exact: RecBole's GRU
            # has no bias and padding's embedding is zero, so the state stays 0 until an item.
            hidden, _ = self.gru_layers(self.emb_dropout(self.item_embedding(item_seq)))
            return next_item_ce(self, self.dense(hidden), item_seq, interaction["targets"])

    class AllPositionCaser(Caser):
        """Caser of the latest L (`MAX_ITEM_LIST_LENGTH`) items of every position, left-padded,
        with user 0 (a zero embedding): RecBole's `forward` on each position's window."""

        def windows(self, item_seq):
            padded = torch.nn.functional.pad(item_seq, (self.max_seq_length - 1, 0))
            return padded.unfold(1, self.max_seq_length, 1)  # [b, t, L], oldest first

        def calculate_loss(self, interaction):
            item_seq, targets = interaction[self.ITEM_SEQ], interaction["targets"]
            scored = (item_seq != 0) & (targets != 0)  # only these positions count
            windows = self.windows(item_seq)[scored]
            users = torch.zeros(len(windows), dtype=torch.long)
            hidden = self.forward(users, windows)[:, None]
            return next_item_ce(self, hidden, windows[:, -1:], targets[scored][:, None])

        def full_sort_predict(self, interaction):
            windows = self.windows(interaction[self.ITEM_SEQ])[:, -1]
            users = torch.zeros(len(windows), dtype=torch.long)
            return torch.matmul(self.forward(users, windows), self.item_embedding.weight.T)

    return {
        "nextitnet_plus": AllPositionNextItNet,
        "sasrec_plus": AllPositionSASRec,
        "gru4rec": AllPositionGRU4Rec,
        "caser": AllPositionCaser,
    }


def batches(sequences: np.ndarray, batch_size: int, seed: int):
    """Shuffled batches, epoch after epoch, each epoch's last batch partial."""
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(len(sequences))
        for start in range(0, len(order), batch_size):
            yield sequences[order[start : start + batch_size]]


def torch_set_up(threads: int, seed: int):
    """torch, imported, with `threads` intra- and inter-op threads (0: its default) and seeded."""
    import torch

    if threads:
        torch.set_num_threads(threads)
        torch.set_num_interop_threads(threads)
    torch.manual_seed(seed)
    return torch


def main():
    args = parse_args()
    torch = torch_set_up(args.threads, args.seed)
    sequences = np.load(args.sequences).astype(np.int64)
    model_class = all_position_models()[args.model]
    rss_base = peak_rss_mib()  # the libraries and the data, as the project's
    config = recbole_config(args, sequences.shape[1] - 1)
    model = model_class(config, Catalogue(args.num_items))
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.learning_rate)
    source = batches(sequences, args.batch_size, args.seed)
    begin = time.perf_counter()
    start, timed, first_loss = begin, 0, None
    for step in range(args.warmup_steps + args.steps):
        batch = torch.from_numpy(next(source))
        interaction = {
            model.ITEM_SEQ: batch[:, :-1],
            model.ITEM_SEQ_LEN: (batch[:, :-1] != 0).sum(dim=1),
            "targets": batch[:, 1:],
        }
        optimizer.zero_grad()
        loss = model.calculate_loss(interaction)
        loss.backward()
        optimizer.step()
        loss_value = loss.item()  # as RecBole's trainer: total_loss += loss.item()
        if first_loss is None:
            first_loss = loss_value
        if step == args.warmup_steps - 1:
            start = time.perf_counter()
        elif step >= args.warmup_steps:
            timed += len(batch)
    seconds = time.perf_counter() - start
    result = {
        "side": "peer",
        "model": f"recbole.{model_class.__bases__[0].__name__}",
        "seq_per_s": timed / seconds,
        "ms_per_step": seconds / args.steps * 1000,
        "peak_rss_mib": peak_rss_mib(),
        "base_rss_mib": rss_base,
        "steps": args.steps,
        "sequences": timed,
        "warmup_s": start - begin,
        "first_loss": first_loss,
        "params": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "torch_threads": torch.get_num_threads(),
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
