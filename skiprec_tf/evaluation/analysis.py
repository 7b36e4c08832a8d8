"""Which blocks the policy uses on the test users: the paper's Figure 4 and its summary."""

import csv
import dataclasses
import io

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

from skiprec_tf.data.pipeline import evaluation_batches
from skiprec_tf.evaluation.flops import inference_flops


def collect_actions(model, sequences: np.ndarray, batch_size: int) -> np.ndarray:
    """The inference policy's 0/1 decisions `[n, N]` for every sequence (1 = retained)."""
    actions = tf.function(model.inference_actions)
    batches = [actions(inputs).numpy() for inputs, _ in evaluation_batches(sequences, batch_size)]
    return np.concatenate(batches).astype(np.int8)


def block_usage(actions: np.ndarray) -> dict:
    """Utilisation rate of every block and the distribution of blocks used per user."""
    per_user = actions.sum(axis=1)
    return {
        "utilisation": actions.mean(axis=0).round(6).tolist(),
        "usage_fraction": float(per_user.mean() / actions.shape[1]),
        "blocks_mean": float(per_user.mean()),
        "blocks_std": float(per_user.std()),
        "blocks_min": int(per_user.min()),
        "blocks_max": int(per_user.max()),
        "distinct_policies": len(np.unique(actions, axis=0)),
    }


def write_block_usage(run, usage: dict, dilations, step: int) -> None:
    """The run's `block_usage.csv`, `block_usage.png` and TensorBoard's `test/block_utilisation`
    image and `test/blocks_*` scalars (`run`: a `RunDir`; `dilations`: NextItNet+'s, or None
    for SASRec+, whose `dilations` column stays empty)."""
    rates = usage["utilisation"]
    with open(run.block_usage_csv, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["block", "dilations", "utilisation"])
        for block, (rate, r) in enumerate(zip(rates, dilations or [None] * len(rates)), start=1):
            writer.writerow([block, "" if r is None else f"{r}-{2 * r}", f"{rate:.6f}"])
    png = _figure_png(usage)
    with open(run.block_usage_png, "wb") as f:
        f.write(png)
    with tf.summary.create_file_writer(run.tensorboard_dir).as_default():
        tf.summary.image("test/block_utilisation", tf.image.decode_png(png)[None], step=step)
        for name in ("usage_fraction", "blocks_mean", "blocks_std", "distinct_policies"):
            tf.summary.scalar(f"test/{name}", usage[name], step=step)


def _figure_png(usage: dict) -> bytes:
    rates = usage["utilisation"]
    fig, ax = plt.subplots(figsize=(max(6, len(rates) * 0.25), 3), dpi=100)
    ax.bar(np.arange(1, len(rates) + 1), rates, color="#4878a8")
    ax.set_xlabel("residual block")
    ax.set_ylabel("utilisation rate")
    ax.set_ylim(0, 1)
    ax.set_title(
        f"blocks per user: mean {usage['blocks_mean']:.1f} (std {usage['blocks_std']:.1f}), "
        f"{usage['distinct_policies']} distinct policies"
    )
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def analyse_block_usage(model, config, data, user_groups, run, step) -> dict:
    """Block usage of the inference policy on the test users, its FLOP fraction of the full
    backbone (policy network and output layer included), per user group; written to the run's
    files (`run`: a `RunDir`)."""
    actions = collect_actions(model, data.test, config.train.eval_batch_size)
    usage = block_usage(actions)
    seq_len, num_items = config.data.input_length, data.num_items
    used = inference_flops(
        config.model, config.policy.policy, seq_len, num_items, usage["blocks_mean"]
    )
    full_model = dataclasses.replace(config.model, model=config.model.backbone)
    full = inference_flops(full_model, "", seq_len, num_items, config.model.num_blocks)
    usage["flop_fraction"] = float(used / full)
    if user_groups:
        usage["blocks_mean_by_group"] = {
            name: float(actions[np.isin(data.test_users, users)].sum(axis=1).mean())
            for name, users in user_groups.items()
            if np.isin(data.test_users, users).any()
        }
    dilations = config.model.dilations if config.model.backbone == "nextitnet_plus" else None
    write_block_usage(run, usage, dilations, step)
    return usage
