"""Top-k recommendations for one history from a run or an export: what a person tries first."""

import os
import statistics
import time

import pandas as pd
import tensorflow as tf

from skiprec_tf.errors import ConfigError, DataError


def load_recommender(
    run_dir: str = "", export_dir: str = "", max_blocks=None, exclude_history: bool = False
):
    """(recommender, source, excludes): a function (item_ids [batch, L] int64, k int32) ->
    {item_ids, scores, blocks_used, ...} from a SavedModel (a version directory, or a model
    directory whose newest version is used) or else from a run directory; with `max_blocks` (an
    int), each user runs at most that many blocks (the `recommend_budget` signature).

    `excludes` is whether it never recommends history items: the export's `serving_info`
    (None for an export older than it), or `exclude_history` for a run directory."""
    if export_dir:
        path = _saved_model_path(export_dir)
        signatures = tf.saved_model.load(path).signatures
        excludes = None
        if "serving_info" in signatures:
            excludes = bool(signatures["serving_info"]()["exclude_history"])
        if max_blocks is None:
            return signatures["recommend_k"], path, excludes
        if "recommend_budget" not in signatures:
            raise ConfigError(
                f"--max_blocks: {path} has no recommend_budget signature (exported before it "
                "existed); export the run again"
            )
        budget = signatures["recommend_budget"]
        return (
            lambda item_ids, k: budget(item_ids=item_ids, k=k, max_blocks=max_blocks),
            path,
            excludes,
        )
    from skiprec_tf.serving.export import RecommenderServing
    from skiprec_tf.training.run_dir import RunDir

    config, model, item_ids = RunDir(run_dir).load_model()
    serving = RecommenderServing(
        model, item_ids, config.data.input_length, exclude_history=exclude_history
    )
    if max_blocks is None:
        return lambda item_ids, k: serving.serve_k(item_ids, k), run_dir, exclude_history
    return (
        lambda item_ids, k: serving.serve_budget(item_ids, k, max_blocks),
        run_dir,
        exclude_history,
    )


def describe_exclusion(excludes) -> str:
    """The line `--mode=recommend` prints for `load_recommender`'s `excludes`."""
    if excludes is None:
        return "History items: not recorded in this export (exported before serving_info)"
    if excludes:
        return "History items: excluded (exported with --exclude_history)"
    return "History items: may be recommended (every item ranked, the paper's protocol)"


def _saved_model_path(export_dir: str) -> str:
    if os.path.isfile(os.path.join(export_dir, "saved_model.pb")):
        return export_dir
    versions = (
        sorted((int(v) for v in os.listdir(export_dir) if v.isdigit()), reverse=True)
        if os.path.isdir(export_dir)
        else []
    )
    if not versions:
        raise ConfigError(
            f"--export_dir={export_dir}: no SavedModel (saved_model.pb or <version>/)"
        )
    return os.path.join(export_dir, str(versions[0]))


def read_titles(path: str) -> dict:
    """Raw item id -> title from MovieLens `movies.csv` (movieId,title,...), ML-1M / ML-10M
    `movies.dat` (MovieID::Title::Genres, Latin-1) or ml-100k `u.item`."""
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such file")
    if path.endswith("u.item"):
        table = pd.read_csv(path, sep="|", header=None, encoding="latin-1", usecols=[0, 1])
    elif path.endswith(".dat"):
        with open(path, encoding="latin-1") as f:
            rows = [line.rstrip("\n").split("::")[:2] for line in f if line.strip()]
        table = pd.DataFrame(rows)
    else:
        table = pd.read_csv(path, usecols=[0, 1])
    return dict(zip(table.iloc[:, 0].astype("int64"), table.iloc[:, 1].astype(str)))


def recommend(recommender, items, k: int, repeats: int = 5):
    """(raw ids, scores, blocks used, median latency in ms over `repeats` calls after a warm-up,
    known items in the input window: None for an export older than `history_length`)."""
    request = tf.constant([items], tf.int64)
    recommender(item_ids=request, k=tf.constant(k))  # warm-up: tracing and first-call costs
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = recommender(item_ids=request, k=tf.constant(k))
        seconds.append(time.perf_counter() - start)
    return (
        result["item_ids"][0].numpy().tolist(),
        result["scores"][0].numpy().tolist(),
        int(result["blocks_used"][0]),
        1000 * statistics.median(seconds),
        int(result["history_length"][0]) if "history_length" in result else None,
    )


def format_recommendations(
    items, ids, scores, blocks, latency_ms, titles=None, max_blocks=None
) -> str:
    """The history, the ranked recommendations with their scores (each item with its title, if
    `titles` has one), the blocks run (and the cap `max_blocks`, if given) and the latency, as
    the lines `--mode=recommend` prints."""
    titles = titles or {}

    def name(item):
        return f"{item} {titles[item]}" if item in titles else str(item)

    lines = ["History (oldest first):", *(f"  {name(item)}" for item in items), "Recommended:"]
    lines += [
        f"  {rank:>2}. {name(item)}  ({score:.3f})"
        for rank, (item, score) in enumerate(zip(ids, scores), 1)
    ]
    cap = "" if max_blocks is None else f" (capped at --max_blocks={max_blocks})"
    lines.append(
        f"Blocks run: {blocks}{cap}; latency {latency_ms:.1f} ms (median of 5 calls, batch of 1)"
    )
    return "\n".join(lines)
