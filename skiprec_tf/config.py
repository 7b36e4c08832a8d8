"""Typed, frozen run configuration: built once from flags in `main`, written next to the run.

The dataclasses are the single source of every option: its default, its help text, its flag name
and its check (`option`); `config_flags` derives the absl flags from them.
"""

import dataclasses
import json
import math
import numbers
import typing

from skiprec_tf.errors import ConfigError

DATA_FORMATS = ("synthetic", "movielens_csv", "movielens_dat", "ml100k", "sequences", "padded")
CUTS = ("subsequences", "latest")
SOFTMAXES = ("full", "sampled")
BACKBONES = ("nextitnet_plus", "sasrec_plus")
# The paper's Table 2 baselines (section 4.2), beside MostPop: plain NextItNet (NextItNet+'s blocks
# with lambda = 1), GRU4Rec, Caser and NFM. They are compared with, never skipped.
BASELINES = ("nextitnet", "gru4rec", "caser", "nfm")
SKIPREC_MODELS = ("skiprec_gumbel", "skiprec_rl")
MODELS = (*BACKBONES, *BASELINES, *SKIPREC_MODELS)
# The blocks a model that is not SkipRec is made of (None: no residual blocks).
OWN_BACKBONE = {**{name: name for name in BACKBONES}, "nextitnet": "nextitnet_plus"}
POLICIES = ("cnn", "gru", "attention", "random")
# How correct SkipRec-RL's recommendation is (rewards.py): Eq. 8's top-k hit (the paper), the
# target's reciprocal rank (it differs between two policies whenever the target's rank does), or
# the target's log-likelihood.
REWARDS = ("hit", "reciprocal_rank", "log_likelihood")
STRATEGIES = ("default", "mirrored", "multi_worker")


def option(default, help: str, *, flag=None, choices=None, at_least=None, flag_default=None):
    """A config field and what its flag needs.

    Args:
      default: the value when nothing is given.
      help: the flag's help text.
      flag: the flag's name, when it is not the field's.
      choices: the values allowed.
      at_least: the smallest int allowed.
      flag_default: the flag's default, when it is not `default` (the cache directory).
    """
    metadata = {"help": help, "flag": flag, "choices": choices, "at_least": at_least}
    metadata["flag_default"] = default if flag_default is None else flag_default
    return dataclasses.field(default=default, metadata=metadata)


def flag_name(field: dataclasses.Field) -> str:
    """The name of the flag that sets `field`."""
    return field.metadata.get("flag") or field.name


def flag_text(value) -> str:
    """A field's value as its flag is written: a tuple comma-separated."""
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def field_types(cls) -> dict:
    """`{field name: type}` of a config dataclass."""
    return typing.get_type_hints(cls)


# The rules, written once: the configs check their fields with them, and the data protocol's
# functions (data/preprocess.py) their arguments.


def check_choice(name: str, value, choices) -> None:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")


def check_at_least(name: str, value, minimum: int) -> None:
    """`value` is an int (not a bool) >= `minimum`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        kind = {0: "a non-negative integer", 1: "a positive integer"}.get(
            minimum, f"an integer >= {minimum}"
        )
        raise ConfigError(f"{name} must be {kind}, got {value!r}")


def check_seq_len(name: str, value) -> None:
    """t >= 2: one input and one target."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 2:
        raise ConfigError(
            f"{name} must be an integer >= 2 (one input and one target), got {value!r}"
        )


def check_fractions(name: str, fractions) -> tuple[float, float, float]:
    """Three train / validation / test fractions >= 0 summing to 1, as floats."""
    try:
        values = tuple(float(f) for f in fractions)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{name} must be 3 fractions (train, valid, test), got {fractions!r}"
        ) from None
    if len(values) != 3 or not all(math.isfinite(f) and f >= 0 for f in values):
        raise ConfigError(f"{name} must be 3 fractions >= 0 (train, valid, test), got {values}")
    if not math.isclose(sum(values), 1.0, abs_tol=1e-6):
        raise ConfigError(f"{name} must be fractions summing to 1, got {values}")
    return values


def check_positive(name: str, value: float) -> None:
    if not value > 0:
        raise ConfigError(f"{name} must be positive, got {value}")


def _check_fields(config) -> None:
    """The checks that `option` declares: choices and int minimums, named by flag."""
    for field in dataclasses.fields(config):
        value, name = getattr(config, field.name), f"--{flag_name(field)}"
        if field.metadata.get("choices") and value is not None:
            check_choice(name, value, field.metadata["choices"])
        if field.metadata.get("at_least") is not None:
            check_at_least(name, value, field.metadata["at_least"])


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """Where the interactions come from and how they become sequences (paper section 4.1)."""

    name: str = option(
        "synthetic", "Name of the data set in tables and run dirs.", flag="data_name"
    )
    format: str = option(
        "synthetic", "Format of --data_path.", flag="data_format", choices=DATA_FORMATS
    )
    path: str = option(
        "", "Interaction file (not needed for the synthetic data).", flag="data_path"
    )
    min_user_items: int = option(10, "Remove users with fewer items (paper: 10).", at_least=0)
    min_item_users: int = option(5, "Remove items with fewer users (paper: 5).", at_least=0)
    seq_len: int = option(20, "t: length of every sequence (input t - 1 items, then targets).")
    cut: str = option(
        "subsequences",
        "Sub-sequences of length t (ML20/ML100), or the latest t items per user (Weishi).",
        choices=CUTS,
    )
    fractions: tuple[float, float, float] = option(
        (0.8, 0.05, 0.15), "Train, validation and test fractions of the sequences.", flag="split"
    )
    seed: int = option(
        0, "Seed of the sequence split and the synthetic generator.", flag="split_seed"
    )
    cache_dir: str | None = option(
        None,
        "Cache of preprocessed data sets; empty disables it.",
        flag_default="~/.cache/skiprec_tf",
    )
    synthetic_users: int = option(4000, "Users of the synthetic data set.", at_least=1)
    synthetic_items: int = option(400, "Items of the synthetic data set.", at_least=1)

    def __post_init__(self):
        _check_fields(self)
        if self.format != "synthetic" and not self.path:
            raise ConfigError(f"--data_path is required for --data_format={self.format}")
        check_seq_len("--seq_len", self.seq_len)
        check_fractions("--split", self.fractions)

    @property
    def input_length(self) -> int:
        """t - 1: the items a model reads (the last item of a sequence is only a target)."""
        return self.seq_len - 1

    @property
    def protocol(self) -> dict:
        """The options of the paper's data protocol (`preprocess.build_sequence_data`)."""
        names = ("min_user_items", "min_item_users", "seq_len", "cut", "fractions", "seed")
        return {name: getattr(self, name) for name in names}


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """The model: NextItNet+ (paper section 3.3) or SASRec+ (5.4), SkipRec on either (3.4), or
    a baseline of Table 2."""

    model: str = option(
        "nextitnet_plus",
        "A backbone alone (NextItNet+ or SASRec+), SkipRec trained by Gumbel or RL, or a "
        "baseline: nextitnet (NextItNet+ with lambda = 1), gru4rec, caser or nfm.",
        choices=MODELS,
    )
    backbone: str | None = option(
        None,
        "SkipRec's backbone (default nextitnet_plus); a backbone --model is its own, and "
        "--model=nextitnet's is nextitnet_plus with lambda = 1.",
        choices=BACKBONES,
    )
    embedding_dim: int = option(256, "d: item embedding and channel size (paper: 256).", at_least=1)
    num_blocks: int = option(32, "N: residual blocks of the backbone (paper: 32, 48).", at_least=1)
    block_dilations: tuple[int, ...] = option(
        (1, 4),
        "Dilation r of consecutive blocks, repeated to N; a block's convolutions use r and 2r, "
        "so 1,4 gives the paper's 16 x {1, 2, 4, 8}.",
    )
    kernel_size: int = option(3, "Width of the causal convolutions (paper: 3).", at_least=1)
    num_heads: int = option(2, "SASRec+: attention heads of every block.", at_least=1)
    rezero: bool = option(
        True,
        "NextItNet+ (lambda learnable from 0); false gives NextItNet (lambda = 1), as "
        "--model=nextitnet always does.",
    )
    dropout: float = option(
        0.0,
        "In training, the rate of units dropped from the item embeddings and from every block's "
        "residual branch F(E) (not in the paper; inference never drops).",
    )
    tied_embeddings: bool = option(
        False,
        "Score items by their item embeddings (and a bias) instead of a separate output layer "
        "W of Eq. 3, as SASRec does (not in the paper).",
    )
    softmax: str = option(
        "full", "Full softmax, or sampled softmax for large catalogues.", choices=SOFTMAXES
    )
    num_sampled: int = option(1000, "Negatives of the sampled softmax.", at_least=1)
    gru_layers: int = option(1, "GRU4Rec: stacked GRU layers of d units.", at_least=1)
    caser_window: int = option(
        5, "Caser: L, the latest items every position reads (Caser's paper: 5).", at_least=1
    )
    caser_horizontal_filters: int = option(
        16, "Caser: horizontal filters of each height 1..L (Caser's paper: 16).", at_least=1
    )
    caser_vertical_filters: int = option(
        4, "Caser: vertical filters (Caser's paper: 4).", at_least=1
    )

    def __post_init__(self):
        own = OWN_BACKBONE.get(self.model)
        if self.model not in SKIPREC_MODELS and self.backbone not in (None, own):
            raise ConfigError(
                f"--backbone={self.backbone} conflicts with --model={self.model}: "
                "--backbone is SkipRec's"
            )
        if self.backbone is None and (own or self.model in SKIPREC_MODELS):
            object.__setattr__(self, "backbone", own or "nextitnet_plus")
        if self.model == "nextitnet":  # the residual without the learnable lambda
            object.__setattr__(self, "rezero", False)
        _check_fields(self)
        if self.backbone == "sasrec_plus" and self.embedding_dim % self.num_heads:
            raise ConfigError(
                f"--embedding_dim={self.embedding_dim} is not a multiple of "
                f"--num_heads={self.num_heads}"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"--dropout must be in [0, 1), got {self.dropout}")
        if not self.block_dilations or min(self.block_dilations) < 1:
            raise ConfigError(
                f"--block_dilations must be positive integers, got {self.block_dilations}"
            )

    @property
    def backbone_shape(self) -> dict:
        """The fields that make two backbones' weights interchangeable (two-stage training):
        those of every backbone and those of its own kind of block."""
        own = (
            ("block_dilations", "kernel_size")
            if self.backbone == "nextitnet_plus"
            else ("num_heads",)
        )
        fields = ("backbone", "embedding_dim", "num_blocks", "rezero", "tied_embeddings", *own)
        return {name: getattr(self, name) for name in fields}

    @property
    def is_skiprec(self) -> bool:
        """SkipRec (a backbone and a policy), not a backbone or a baseline alone."""
        return self.model in SKIPREC_MODELS

    @property
    def dilations(self) -> tuple[int, ...]:
        """The dilation r of each of the N blocks."""
        pattern = self.block_dilations
        return tuple(pattern[i % len(pattern)] for i in range(self.num_blocks))


@dataclasses.dataclass(frozen=True)
class PolicyConfig:
    """The SkipRec policy and how it learns (paper section 3.4-3.5); unused by NextItNet+."""

    per_example_noise: bool = option(
        False,
        "Draw each user's policy samples from a hash of the step's seed and the user's "
        "sequence, not from one stream over the batch: a run's samples then do not depend on "
        "how its batches are split, and --strategy=mirrored|multi_worker trains as one process "
        "with the same global batch.",
    )
    skip_in_training: bool = option(
        False,
        "SkipRec-RL: run each block in training only on the users whose policy retains it, as "
        "the served model does, instead of on every user with the skips masked out (the authors' "
        "code); the same losses and gradients at a cost that falls with the blocks used. Not "
        "with --jit_compile (the retaining users are known only at run time) nor "
        "--model=skiprec_gumbel (its gradient needs the skipped blocks' outputs).",
    )

    policy: str = option(
        "cnn",
        "Policy network: cnn, the paper's 2-block NextItNet; gru, a GRU (Table 4); attention, "
        "one self-attention block (SASRec+'s policy, section 5.4); random, every block retained "
        "with probability 0.5 (Table 3).",
        choices=POLICIES,
    )
    temperature: float = option(10.0, "tau of the Gumbel-softmax (Eq. 7; paper: 10).")
    gamma: float = option(1.0, "Penalty of a wrong recommendation in the reward (Eq. 8).")
    beta: float = option(1.0, "Weight of the RL loss (Eq. 10).")
    reward_top_k: int = option(
        5, "A recommendation is correct if the item is in the top k (Eq. 8).", at_least=1
    )
    reward: str = option(
        "hit",
        "SkipRec-RL's correctness term: the top-k hit of Eq. 8 (the paper), or, denser where hits "
        "are rare, the target's reciprocal rank or log-likelihood (not in the paper).",
        choices=REWARDS,
    )
    normalize_advantage: bool = option(
        False,
        "Divide the RL advantage by its standard deviation over the batch (not in the paper).",
    )
    entropy_weight: float = option(
        0.0, "Weight of an entropy bonus of the policy in L_RL (not in the paper)."
    )
    policy_samples: int = option(
        1, "Sampled policies per user and step in SkipRec-RL (the paper: 1).", at_least=1
    )
    greedy_ce_weight: float = option(
        0.0,
        "SkipRec-RL: weight of the cross-entropy under the greedy policy (the sub-network that "
        "is served and validated), added to the one under the sampled policy (not in the paper: "
        "the backbone trains under the sampled policy only).",
    )
    policy_learning_rate: float | None = option(
        None,
        "Learning rate of the policy's weights, stepped by an optimizer of their own (not in the "
        "paper; unset: --learning_rate). Under Adam, beta does not change the policy's step.",
    )
    warmup_epochs: int = option(
        0, "First epochs with every block and no policy (the authors' rl_iter).", at_least=0
    )
    curriculum_epochs: int = option(
        0,
        "Epochs after the warm-up over which the policy takes over the blocks, from the last "
        "one backwards (BlockDrop's curriculum); 0 = all at once.",
        at_least=0,
    )
    target_usage: float | None = option(
        None, "Optional fraction of blocks to aim for (not in the paper)."
    )
    usage_weight: float = option(1.0, "Weight of the (usage - target_usage)^2 penalty.")
    init_from: str = option(
        "",
        "Run dir or checkpoint of a backbone run (NextItNet+ or SASRec+, as --backbone) whose "
        "weights start SkipRec: two-stage training (w/ pre).",
    )

    def __post_init__(self):
        _check_fields(self)
        check_positive("--temperature", self.temperature)
        if self.policy_learning_rate is not None:
            check_positive("--policy_learning_rate", self.policy_learning_rate)
        if self.greedy_ce_weight < 0:
            raise ConfigError(f"--greedy_ce_weight must be >= 0, got {self.greedy_ce_weight}")
        if self.target_usage is not None and not 0.0 <= self.target_usage <= 1.0:
            raise ConfigError(f"--target_usage must be in [0, 1], got {self.target_usage}")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Optimisation (paper section 4.3: batch 256, Adam, learning rate 1e-3)."""

    batch_size: int = option(256, "Sequences per training step.", at_least=1)
    eval_batch_size: int = option(512, "Sequences per evaluation step.", at_least=1)
    learning_rate: float = option(1e-3, "Adam learning rate.")
    weight_decay: float = option(
        0.0,
        "Decoupled weight decay (AdamW) of the kernels and embeddings (not of biases, layer norms "
        "and lambdas); 0 is the paper's Adam.",
    )
    epochs: int = option(20, "Training epochs (at most, with --patience).", at_least=1)
    patience: int = option(
        0,
        "Stop when validation MRR@5 has not improved for this many epochs (after the policy's "
        "warm-up and curriculum); 0 trains every epoch.",
        at_least=0,
    )
    seed: int = option(0, "Seed of initialisation and data order.")
    jit_compile: bool = option(False, "Compile the train and test steps with XLA.")
    strategy: str = option(
        "default",
        "tf.distribute strategy: one device, every local device (mirrored), or the workers of "
        "TF_CONFIG (multi_worker); --batch_size is the global batch.",
        choices=STRATEGIES,
    )
    checkpoint_every_steps: int = option(
        0,
        "Also checkpoint every this many steps within an epoch, with the data's position, so "
        "that --resume after a crash loses at most these steps; 0: after every epoch only.",
        at_least=0,
    )
    skip_nonfinite_steps: bool = option(
        False,
        "Skip (and count, as nonfinite_steps) a training step whose loss or gradients are not "
        "finite, instead of stopping the run.",
    )

    def __post_init__(self):
        _check_fields(self)
        check_positive("--learning_rate", self.learning_rate)
        if self.weight_decay < 0:
            raise ConfigError(f"--weight_decay must be non-negative, got {self.weight_decay}")
        if self.skip_nonfinite_steps and self.strategy != "default":
            raise ConfigError(
                "--skip_nonfinite_steps decides per replica and is not supported with "
                f"--strategy={self.strategy}"
            )


# The fields a resumed run may change: how long it trains and how it is computed, not what.
RESUMABLE = frozenset(
    {
        "epochs",
        "patience",
        "eval_batch_size",
        "jit_compile",
        "cache_dir",
        "checkpoint_every_steps",
        "skip_nonfinite_steps",
        "strategy",
    }
)

SECTIONS = {"data": DataConfig, "model": ModelConfig, "policy": PolicyConfig, "train": TrainConfig}


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Everything one run needs; `main` builds it from flags."""

    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    policy: PolicyConfig = dataclasses.field(default_factory=PolicyConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)
    run_dir: str = ""
    resume: bool = False

    def __post_init__(self):
        if self.policy.init_from and not self.model.is_skiprec:
            raise ConfigError(
                "--init_from initialises a SkipRec backbone: use it with --model=skiprec_*"
            )
        if self.policy.skip_in_training:
            self._check_skip_in_training()
        if self.policy.greedy_ce_weight:
            self._check_rl_option("--greedy_ce_weight")
            if self.policy.policy == "random":
                raise ConfigError(
                    "--greedy_ce_weight trains under the greedy policy, which the random policy "
                    "does not have (it trains on L_CE under its samples alone)"
                )

    def _check_rl_option(self, flag: str) -> None:
        if self.model.model != "skiprec_rl":
            raise ConfigError(f"{flag} is SkipRec-RL's, not --model={self.model.model}'s")

    def _check_skip_in_training(self) -> None:
        if self.model.model == "skiprec_gumbel":
            raise ConfigError(
                "--skip_in_training is SkipRec-RL's: the Gumbel straight-through gradient of a "
                "skipped block's decision needs that block's output (Eq. 7)"
            )
        self._check_rl_option("--skip_in_training")
        if self.train.jit_compile:
            raise ConfigError(
                "--skip_in_training runs each block on the users known only at run time, which "
                "XLA cannot compile: pass --jit_compile=false"
            )

    def check_policy_trains(self) -> None:
        """Refuses a SkipRec run whose warm-up and curriculum take every epoch: its policy would
        never act in training, no epoch could count as best, and every user would get every
        block."""
        if not self.model.is_skiprec:
            return
        policy, epochs = self.policy, self.train.epochs
        taken = policy.warmup_epochs + policy.curriculum_epochs
        if taken >= epochs:
            raise ConfigError(
                f"--warmup_epochs={policy.warmup_epochs} and "
                f"--curriculum_epochs={policy.curriculum_epochs} take {taken} of the "
                f"{epochs} --epochs: the policy would never train and every user would get "
                f"every block; pass --epochs={taken + 1} or more"
            )

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "RunConfig":
        raw = json.loads(text)
        sections = {
            name: section(**_tuples(raw.get(name, {}))) for name, section in SECTIONS.items()
        }
        return cls(**sections, run_dir=raw["run_dir"], resume=raw["resume"])

    def changed_flags(self, other: "RunConfig") -> list:
        """`--flag: mine -> other's` for every field where the two configs differ, except those
        a resumed run may change (`RESUMABLE`)."""
        changed = []
        for section in SECTIONS:
            mine, theirs = getattr(self, section), getattr(other, section)
            changed += [
                f"--{flag_name(field)}: {flag_text(getattr(mine, field.name))} -> "
                f"{flag_text(getattr(theirs, field.name))}"
                for field in dataclasses.fields(mine)
                if field.name not in RESUMABLE
                and getattr(mine, field.name) != getattr(theirs, field.name)
            ]
        return changed


def _tuples(fields: dict) -> dict:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}
