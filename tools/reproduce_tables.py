"""The paper's Tables 2-5 and Figure 4 for one data set, in one command.

Trains every model the tables need, `--seeds` times, each from its flagfile `flags/<data>_<kind>.cfg`
(the settings chosen on validation for that data set; `--scale=paper` puts the paper's d = 256,
batch 256 and Adam 1e-3 over them, for a GPU), into `<out_dir>/<row>_seed<seed>`. The grid is
resumable: a finished run is reused (after checking that it was trained with the row's settings),
an interrupted one resumed, so the command can be stopped and run again at will. `--reuse` takes
runs trained before (`ROW=PATH` with `{seed}` in PATH), checked the same way. "w/ pre" rows start
from the backbone run of the same seed (`--init_from`, no warm-up).

Then it writes `<out_dir>/tables.md` (also printed): per table, each model's test MRR@5, MRR@20,
HR@5, HR@20 and NDCG@20 as the mean ± standard deviation over the seeds; the served speedup of
every SkipRec model against its backbone, measured (never from FLOPs) on their SavedModels loaded
as TF Serving loads them, timed alternately at batch 256 on the test split, per seed, as soon as
the run has trained, and kept in it (`served_speedup.json`); and each
model's paired comparison with the backbone (relative MRR@5 and HR@20, bootstrap 95% CIs over the
test sequences). Table 2 also holds MostPop and the Markov chain. `<out_dir>/block_utilisation.png`
is Figure 4: the utilisation of every block by each SkipRec model, averaged over the seeds.

The tables are made again from a grid's small files alone (config, metrics, test ranks, block
usage, speedups; no checkpoints), copied anywhere as a whole: pass their directory as --out_dir.
Two invocations may share an out_dir (one per core) if their rows are disjoint but for finished
backbones.

Example (ML-1M, t = 20, three seeds, Tables 2 and 3, reusing the ML-1M issue's backbones):
  nohup python tools/reproduce_tables.py --data=ml1m --tables=2,3 --out_dir=runs/tables_ml1m \
      --reuse="NextItNet+=runs/ml1m_depth_nextitnet/num_blocks=32_seed{seed}" > tables.log 2>&1 &
The tiny preset (`--preset=tiny`: synthetic data, one seed, one epoch, three models) is what the
tests run.
"""

import dataclasses
import hashlib
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from absl import app, flags

from skiprec_tf import config_flags
from skiprec_tf.errors import ConfigError
from skiprec_tf.evaluation.tables import TableRow, format_table, mean_utilisation
from skiprec_tf.serving.timing import time_alternating
from skiprec_tf.training.run_dir import RunDir

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRE = ("--warmup_epochs=0",)  # w/ pre: the backbone is trained; the policy acts from the start
# The flagfile kinds of models that are not SkipRec (no policy, nothing skipped).
BACKBONE_KINDS = {"nfm", "gru4rec", "caser", "nextitnet", "plus", "sasrec"}


@dataclasses.dataclass(frozen=True)
class Spec:
    """How a row's runs are trained: `flags/<data>_<kind>.cfg` and `flags`; `pre` the row whose
    run of the same seed initialises it; `backbone` the row it is compared and timed against."""

    name: str
    kind: str
    flags: tuple[str, ...] = ()
    pre: str | None = None
    backbone: str = "NextItNet+"

    @property
    def skiprec(self) -> bool:
        return self.kind not in BACKBONE_KINDS


SPECS = {
    spec.name: spec
    for spec in (
        Spec("NFM", "nfm"),
        Spec("GRU4Rec", "gru4rec"),
        Spec("Caser", "caser"),
        Spec("NextItNet", "nextitnet"),
        Spec("NextItNet+", "plus"),
        Spec("SkipRec-Gumbel", "gumbel"),
        Spec("Gumbel w/ pre", "gumbel", PRE, pre="NextItNet+"),
        Spec("SkipRec-RL", "rl"),
        Spec("RL w/ pre", "rl", PRE, pre="NextItNet+"),
        Spec("Random policy", "random", PRE, pre="NextItNet+"),
        Spec("Gumbel-GRU w/ pre", "gumbel", (*PRE, "--policy=gru"), pre="NextItNet+"),
        Spec("RL-GRU w/ pre", "rl", (*PRE, "--policy=gru"), pre="NextItNet+"),
        Spec("SASRec+", "sasrec", backbone="SASRec+"),
        Spec("SASRec+ SkipRec-Gumbel", "sasrec_gumbel", backbone="SASRec+"),
        Spec("SASRec+ Gumbel w/ pre", "sasrec_gumbel", PRE, pre="SASRec+", backbone="SASRec+"),
        Spec("SASRec+ SkipRec-RL", "sasrec_rl", backbone="SASRec+"),
        Spec("SASRec+ RL w/ pre", "sasrec_rl", PRE, pre="SASRec+", backbone="SASRec+"),
    )
}
# The rows of the paper's tables (Table 2 also has MostPop and the Markov chain).
TABLES = {
    2: ("NFM", "GRU4Rec", "Caser", "NextItNet", "NextItNet+", "SkipRec-Gumbel", "Gumbel w/ pre",
        "SkipRec-RL", "RL w/ pre"),
    3: ("NextItNet+", "Gumbel w/ pre", "RL w/ pre", "Random policy"),
    4: ("NextItNet+", "Gumbel w/ pre", "Gumbel-GRU w/ pre", "RL w/ pre", "RL-GRU w/ pre",
        "Random policy"),
    5: ("SASRec+", "SASRec+ SkipRec-Gumbel", "SASRec+ Gumbel w/ pre", "SASRec+ SkipRec-RL",
        "SASRec+ RL w/ pre"),
}  # fmt: skip
TITLES = {
    2: "Table 2: the baselines, NextItNet+ and SkipRec",
    3: "Table 3: SkipRec against a random policy",
    4: "Table 4: policy networks, CNN and GRU",
    5: "Table 5: SkipRec on SASRec+",
}
SCALES = {"cpu": (), "paper": ("--embedding_dim=256", "--batch_size=256", "--learning_rate=1e-3")}
TINY = {
    "data": "synthetic",
    "seeds": ["0"],
    "tables": ["2"],
    "rows": ["NextItNet+", "GRU4Rec", "RL w/ pre"],
    "extra": "--epochs=1 --embedding_dim=8 --num_blocks=4 --synthetic_users=300 "
    "--synthetic_items=40 --seq_len=10 --batch_size=64",
}

flags.DEFINE_string("data", None, "The data set: its flagfiles are flags/<data>_<kind>.cfg.")
flags.DEFINE_enum("scale", "cpu", sorted(SCALES), "cpu: the flagfiles' sizes; paper: d = 256.")
flags.DEFINE_list("tables", ["2", "3", "4", "5"], "The paper's tables to make (2-5).")
flags.DEFINE_list("rows", [], "Only these rows of the tables (default: all).")
flags.DEFINE_list("seeds", ["0", "1", "2"], "Training seeds of every row.")
flags.DEFINE_string("out_dir", None, "Directory of the runs, tables.md and the figure.")
flags.DEFINE_string("extra", "", "Flags added to every run.")
flags.DEFINE_list("reuse", [], "ROW=PATH runs trained before, {seed} in PATH; checked.")
flags.DEFINE_integer("rounds", 3, "Timing passes over the test split per served model.")
flags.DEFINE_integer("inter_op_threads", 1, "TF Serving's --tensorflow_inter_op_parallelism.")
flags.DEFINE_integer("samples", 2000, "Bootstrap resamplings of the paired comparisons.")
flags.DEFINE_enum("preset", None, ["tiny"], "tiny: synthetic, 1 seed, 1 epoch, 3 models.")
flags.mark_flag_as_required("out_dir")
FLAGS = flags.FLAGS


def slug(name: str) -> str:
    """A row's name as a directory name: "NextItNet+" is nextitnet_plus, not NextItNet's."""
    return re.sub(r"[^A-Za-z0-9]+", "_", name.replace("+", " plus")).strip("_").lower()


class Grid:
    """The runs of the rows and seeds asked for: where each is, how it is trained."""

    def __init__(self, data, scale, rows, seeds, out_dir, extra, reuse):
        self.data, self.seeds, self.out_dir = data, seeds, out_dir
        self.common = (*SCALES[scale], *extra)
        self.reuse = {
            row: os.path.abspath(path) for row, path in (entry.split("=", 1) for entry in reuse)
        }
        unknown = set(self.reuse) - set(SPECS)
        if unknown:
            raise ConfigError(f"--reuse: no row {', '.join(sorted(unknown))}")
        self.rows = rows
        missing = {self.flagfile(SPECS[row]) for row in rows} - set(_existing_flagfiles())
        if missing:
            raise ConfigError(
                f"--data={data}: no flagfile {', '.join(sorted(missing))}; write it with the "
                "settings chosen on the data set's validation split, or leave its rows out "
                "(--tables, --rows)"
            )

    def flagfile(self, spec: Spec) -> str:
        return os.path.join(REPO, "flags", f"{self.data}_{spec.kind}.cfg")

    def path(self, row: str, seed: str) -> str:
        if row in self.reuse:
            return self.reuse[row].format(seed=seed)
        return os.path.join(self.out_dir, f"{slug(row)}_seed{seed}")

    def arguments(self, row: str, seed: str) -> list:
        spec = SPECS[row]
        arguments = [f"--flagfile={self.flagfile(spec)}", *spec.flags, *self.common]
        if spec.pre:
            arguments.append(f"--init_from={self.path(spec.pre, seed)}")
        return [*arguments, f"--seed={seed}"]

    def ordered(self):
        """(row, seed) of every run, seed by seed; within a seed the backbones, then the SkipRec
        runs (trained from them and timed against them while their checkpoints are surely
        here), then the models that need neither. A grid stopped early keeps whole seeds."""
        backbones = {SPECS[row].backbone for row in self.rows if SPECS[row].skiprec}

        def stage(row):
            return 0 if row in backbones else 1 if SPECS[row].skiprec else 2

        rows = sorted(self.rows, key=stage)
        return [(row, seed) for seed in self.seeds for row in rows]


def _existing_flagfiles():
    return [os.path.join(REPO, "flags", name) for name in os.listdir(os.path.join(REPO, "flags"))]


def expected_config(arguments: list):
    """The RunConfig that `python -m skiprec_tf.main ARGUMENTS` would train."""
    flag_values = flags.FlagValues()
    config_flags.define_config_flags(flag_values)
    flag_values(["main", *arguments])
    return config_flags.config_from_flags(flag_values)


def check_settings(run: RunDir, arguments: list, row: str) -> None:
    """A finished or started run must have been trained with the row's settings."""
    saved, expected = run.read_config(), expected_config(arguments)
    changed = [
        change for change in expected.changed_flags(saved) if not change.startswith("--init_from")
    ]
    if not _same_backbone(saved, expected.policy.init_from, run.path):
        changed.append(f"--init_from: {expected.policy.init_from} -> {saved.policy.init_from}")
    if changed:
        raise ConfigError(
            f"{run.path} ({row}) was trained with other settings than the row's: "
            f"{'; '.join(changed)}. Move it away, or pass another --out_dir (or --reuse)."
        )


def _real(path: str) -> str:
    """A run directory's path, resolved (a w/ pre run must start from the row's backbone run)."""
    return os.path.realpath(path) if path else ""


def _same_backbone(saved, init_from: str, run_path: str) -> bool:
    """Whether the run `saved` started from the run `init_from`: the same directory, or the one
    beside it that it started from when the grid was elsewhere (a grid's directory moved or
    copied as a whole, its committed run files, say)."""
    if _real(saved.policy.init_from) == _real(init_from):
        return True
    return bool(init_from and saved.policy.init_from and saved.run_dir) and os.path.relpath(
        saved.policy.init_from, saved.run_dir
    ) == os.path.relpath(init_from, run_path)


def train_grid(grid: Grid, rounds: int, inter_op_threads: int) -> dict:
    """Trains (or resumes) every missing run, in order, and times each SkipRec run against its
    backbone as soon as it has trained (so that a grid stopped later keeps the speedups of its
    finished runs); returns the seconds each run of the out_dir trained, over all invocations
    (kept in `<out_dir>/wall_times.json`)."""
    times_file = os.path.join(grid.out_dir, "wall_times.json")
    runs = grid.ordered()
    for index, (row, seed) in enumerate(runs, 1):
        run, arguments = RunDir(grid.path(row, seed)), grid.arguments(row, seed)
        if run.has_config():
            check_settings(run, arguments, row)
        if os.path.exists(run.metrics_file):
            continue
        if row in grid.reuse:
            raise ConfigError(f"--reuse: {run.path} ({row}, seed {seed}) has not finished")
        pre = SPECS[row].pre and RunDir(grid.path(SPECS[row].pre, seed))
        if pre and pre.model_checkpoint() is None:
            raise ConfigError(
                f"{run.path} ({row}) starts from {pre.path}, which has no checkpoint (a grid "
                "restored from its small files): move that run aside and run again to train it "
                "anew (the speedups kept against it stay valid only if its metrics.json comes "
                "out the same)"
            )
        command = [sys.executable, "-m", "skiprec_tf.main", *arguments, f"--run_dir={run.path}"]
        if run.holds_run() or run.has_config():
            command.append("--resume")
        print(f"== [{index}/{len(runs)}] {row}, seed {seed}: {' '.join(command[1:])}", flush=True)
        start = time.time()
        subprocess.run(command, check=True, cwd=REPO)
        add_wall_time(times_file, f"{row} seed {seed}", time.time() - start)
        backbone = RunDir(grid.path(SPECS[row].backbone, seed))
        if row in timed_rows(grid) and os.path.exists(backbone.metrics_file):
            measure_speedups(grid, [(row, seed)], rounds, inter_op_threads)
    return read_wall_times(times_file)


def read_wall_times(path: str) -> dict:
    if not os.path.exists(path):
        return {}
    with open(path) as file:
        return json.load(file)


def add_wall_time(path: str, key: str, seconds: float) -> None:
    """Adds `seconds` to `key` in the wall times file, read again just before (another
    invocation over other rows of the same out_dir, on the other core, may have added its own)."""
    wall_times = read_wall_times(path)
    wall_times[key] = wall_times.get(key, 0.0) + seconds
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as file:
        json.dump(wall_times, file, indent=1)
    os.replace(tmp, path)


def timed_rows(grid: Grid) -> list:
    """The rows whose served speedup is measured: SkipRec's (the random policy is an ablation and
    is not exported, nor timed)."""
    return [row for row in grid.rows if SPECS[row].skiprec and SPECS[row].kind != "random"]


def _digest(path: str) -> str:
    with open(path, "rb") as file:
        return hashlib.sha256(file.read()).hexdigest()


def saved_speedup(grid: Grid, row: str, seed: str) -> float | None:
    """The speedup kept in the run of `row` and `seed`, if it was measured against the same
    finished runs (neither's metrics.json changed since), else None."""
    run, backbone = RunDir(grid.path(row, seed)), RunDir(grid.path(SPECS[row].backbone, seed))
    record = run.read_served_speedup()
    if record is None or not os.path.exists(backbone.metrics_file):
        return None
    if (record["metrics"], record["backbone_metrics"]) != (
        _digest(run.metrics_file),
        _digest(backbone.metrics_file),
    ):
        return None
    return record["speedup"]


def measure_speedups(grid: Grid, pairs: list, rounds: int, inter_op_threads: int) -> None:
    """Measures the served speedup of every `(row, seed)` of `pairs` against its backbone of the
    same seed: the backbone's median time to serve the test split at batch 256 over the row's,
    both exports loaded in sessions as TF Serving loads them (`inter_op_threads`, as
    tools/budget_curve.py) and timed alternately. Each is kept in the row's run
    (`served_speedup.json`), so that the tables are made again without the checkpoints (from a
    grid's committed run files, say)."""
    from skiprec_tf.data.sources import load_data
    from skiprec_tf.serving.export import RecommenderServing, export_saved_model
    from skiprec_tf.serving.session import SessionServable, serving_threads

    session_config = serving_threads(inter_op_threads)
    for seed in dict.fromkeys(seed for _, seed in pairs):
        rows = [row for row, row_seed in pairs if row_seed == seed]
        serves, requests = {}, None
        with tempfile.TemporaryDirectory() as export_dir:
            for row in [*sorted({SPECS[row].backbone for row in rows}), *rows]:
                config, model, item_ids = RunDir(grid.path(row, seed)).load_model()
                serving = RecommenderServing(model, item_ids, config.data.input_length)
                path = export_saved_model(serving, export_dir, slug(row))
                servable = SessionServable(path, session_config)
                if requests is None:
                    requests = item_ids[load_data(config.data).test[:, :-1]]
                serves[row] = servable.top_k(10)
            batches = [requests[i : i + 256] for i in range(0, len(requests), 256)]
            for serve in serves.values():
                serve(batches[0])  # warm-up
            seconds, _ = time_alternating(serves, batches, [], rounds)
        print(f"seed {seed}: seconds per pass at batch 256: {seconds}", flush=True)
        for row in rows:
            backbone = SPECS[row].backbone
            run, backbone_run = RunDir(grid.path(row, seed)), RunDir(grid.path(backbone, seed))
            run.write_served_speedup({
                "speedup": seconds[backbone] / seconds[row],
                "seconds_per_pass": {"backbone": seconds[backbone], "model": seconds[row]},
                "batch_size": 256, "test_sequences": len(requests), "rounds": rounds,
                "inter_op_threads": inter_op_threads, "machine": machine(),
                "measured": time.strftime("%Y-%m-%d %H:%M:%S"),
                "backbone": os.path.relpath(backbone_run.path, run.path),
                "metrics": _digest(run.metrics_file), "backbone_metrics": _digest(backbone_run.metrics_file),
            })  # fmt: skip


def served_speedups(grid: Grid, rounds: int, inter_op_threads: int) -> dict:
    """`{(row, seed): speedup}` of every timed row: kept in its run, or measured now."""
    pairs = [(row, seed) for seed in grid.seeds for row in timed_rows(grid)]
    speedups = {pair: saved_speedup(grid, *pair) for pair in pairs}
    missing = [pair for pair, speedup in speedups.items() if speedup is None]
    if missing:
        measure_speedups(grid, missing, rounds, inter_op_threads)
        speedups.update({pair: saved_speedup(grid, *pair) for pair in missing})
    return speedups


def table_rows(grid: Grid, table: int, speedups: dict) -> list[TableRow]:
    names = [row for row in TABLES[table] if row in grid.rows]
    rows = []
    for name in names:
        runs = tuple(grid.path(name, seed) for seed in grid.seeds)
        measured = tuple(speedups[(name, seed)] for seed in grid.seeds if (name, seed) in speedups)
        rows.append(TableRow(name, runs, speedups=measured))
        if table == 2 and name == "NextItNet+":  # the popularity baselines of its runs
            rows[:0] = [TableRow("MostPop", runs, "most_popular"),
                        TableRow("Markov chain", runs, "markov_chain")]  # fmt: skip
    return rows


def draw_utilisation(grid: Grid, path: str) -> bool:
    """Figure 4: the utilisation of each block by each SkipRec row, over its seeds."""
    skiprec = [row for row in grid.rows if SPECS[row].skiprec]
    if not skiprec:
        return False
    fig, ax = plt.subplots(figsize=(8, 3.2), dpi=100)
    for row in skiprec:
        rates = mean_utilisation([grid.path(row, seed) for seed in grid.seeds])
        ax.plot(np.arange(1, len(rates) + 1), rates, marker="o", markersize=3, label=row)
    ax.set_xlabel("residual block")
    ax.set_ylabel("utilisation rate")
    ax.set_ylim(0, 1.05)
    ax.set_title(
        f"{grid.data}: block utilisation of the test users (mean of {len(grid.seeds)} seeds)"
    )
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def machine() -> str:
    model = platform.processor() or platform.machine()
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as file:
            names = re.findall(r"model name\s*:\s*(.+)", file.read())
        model = names[0] if names else model
    return f"{os.cpu_count()} cores ({model})"


def main(argv):
    del argv
    if FLAGS.preset == "tiny":
        for name, value in TINY.items():
            if not FLAGS[name].present:
                FLAGS[name].value = value
    if not FLAGS.data:
        raise app.UsageError("--data (or --preset) is required")
    tables = [int(table) for table in FLAGS.tables]
    if set(tables) - set(TABLES):
        raise app.UsageError(f"--tables: the paper's tables are {sorted(TABLES)}")
    wanted = [row for table in tables for row in TABLES[table]]
    if set(FLAGS.rows) - set(wanted):
        raise app.UsageError(f"--rows: {sorted(set(FLAGS.rows) - set(wanted))} are in no table")
    rows = list(dict.fromkeys(row for row in wanted if not FLAGS.rows or row in FLAGS.rows))
    for row in list(rows):  # the runs a row starts from, and those it is compared with
        for needed in (SPECS[row].pre, SPECS[row].backbone):
            if needed and needed not in rows:
                rows.insert(0, needed)
    start = time.time()
    os.makedirs(FLAGS.out_dir, exist_ok=True)
    try:
        grid = Grid(FLAGS.data, FLAGS.scale, rows, FLAGS.seeds, os.path.abspath(FLAGS.out_dir),
                    FLAGS.extra.split(), FLAGS.reuse)  # fmt: skip
        wall_times = train_grid(grid, FLAGS.rounds, FLAGS.inter_op_threads)
        speedups = served_speedups(grid, FLAGS.rounds, FLAGS.inter_op_threads)
        sections = [
            format_table(TITLES[t], table_rows(grid, t, speedups),
                         "SASRec+" if t == 5 else "NextItNet+", FLAGS.samples)
            for t in tables
        ]  # fmt: skip
    except (ConfigError, subprocess.CalledProcessError) as error:
        sys.exit(f"error: {error}")
    figure = os.path.join(FLAGS.out_dir, "block_utilisation.png")
    header = [
        f"# {FLAGS.data}: the paper's tables {', '.join(map(str, tables))}",
        "",
        f"`python tools/reproduce_tables.py {' '.join(sys.argv[1:])}`",
        "",
        (
            f"Machine: {machine()}. This command: {(time.time() - start) / 60:.1f} min; the runs "
            "this tool trained in its out_dir, over all its invocations: "
            f"{sum(wall_times.values()) / 3600:.2f} h (runs passed by --reuse not counted). "
            "Cells: test metrics, mean ± standard deviation over the seeds; Speedup: served at "
            "batch 256 against the backbone, measured per seed (once, when the run had trained; "
            "kept in its served_speedup.json)."
        ),
    ]
    if draw_utilisation(grid, figure):
        header.append(f"\nFigure 4 (block utilisation): `{figure}`")
    text = "\n\n".join(["\n".join(header), *sections]) + "\n"
    with open(os.path.join(FLAGS.out_dir, "tables.md"), "w") as file:
        file.write(text)
    print(text)


if __name__ == "__main__":
    app.run(main, flags_parser=config_flags.parse_flags)
