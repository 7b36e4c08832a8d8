"""Timing served models against each other in one process, for the benchmark tools."""

import statistics
import time


def elapsed(serve, inputs) -> float:
    """Seconds to serve each of `inputs` in turn."""
    start = time.perf_counter()
    for batch in inputs:
        serve(batch)
    return time.perf_counter() - start


def time_alternating(serves: dict, batches, singles, rounds: int):
    """The median seconds of a pass over `batches`, and the latencies (ms) of the `singles`, of
    every `{key: serve}`, alternating them so that machine noise hits all alike."""
    passes = {key: [] for key in serves}
    for _ in range(rounds):
        for key, serve in serves.items():
            passes[key].append(elapsed(serve, batches))
    latencies = {key: [] for key in serves}
    for single in singles:
        for key, serve in serves.items():
            latencies[key].append(1000 * elapsed(serve, [single]))
    return {key: statistics.median(times) for key, times in passes.items()}, latencies
