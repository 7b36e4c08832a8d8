"""Typed, frozen run configuration: built once from flags in `main`, written next to the run."""

import dataclasses
import json
from typing import Optional, Tuple

from skiprec_tf.errors import ConfigError

DATA_FORMATS = ("synthetic", "movielens_csv", "movielens_dat", "ml100k", "sequences", "padded")
CUTS = ("subsequences", "latest")
# The flag of each `DataConfig` field whose flag has another name (the others share theirs).
DATA_FLAGS = {
    "name": "data_name",
    "format": "data_format",
    "path": "data_path",
    "fractions": "split",
    "seed": "split_seed",
}
SOFTMAXES = ("full", "sampled")
MODELS = ("nextitnet_plus", "skiprec_gumbel", "skiprec_rl")
POLICIES = ("cnn", "gru", "random")


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """Where the interactions come from and how they become sequences (paper section 4.1).

    Attributes:
      name: a short name for tables and run directories.
      format: one of `DATA_FORMATS`; "synthetic" needs no file.
      path: the interaction file (ignored for "synthetic").
      min_user_items: users with fewer items are removed (paper: 10).
      min_item_users: items with fewer users are removed (paper: 5).
      seq_len: t, the length of every sequence (input t-1 items, target the next).
      cut: "subsequences" (ML20/ML100) or "latest" t items per user (Weishi).
      fractions: train / validation / test fractions of the sequences (paper: 80/5/15).
      seed: seed of the split (and of the synthetic generator).
      cache_dir: where preprocessed arrays are cached; None disables the cache.
      synthetic_users: number of users of the synthetic generator.
      synthetic_items: number of items of the synthetic generator.
    """

    name: str = "synthetic"
    format: str = "synthetic"
    path: str = ""
    min_user_items: int = 10
    min_item_users: int = 5
    seq_len: int = 20
    cut: str = "subsequences"
    fractions: Tuple[float, float, float] = (0.8, 0.05, 0.15)
    seed: int = 0
    cache_dir: Optional[str] = None
    synthetic_users: int = 4000
    synthetic_items: int = 400

    def __post_init__(self):
        _check_choice("data_format", self.format, DATA_FORMATS)
        _check_choice("cut", self.cut, CUTS)
        if self.format != "synthetic" and not self.path:
            raise ConfigError(f"--data_path is required for --data_format={self.format}")
        if self.seq_len < 2:
            raise ConfigError(
                f"--seq_len must be at least 2 (one input and one target), got {self.seq_len}"
            )
        if (
            len(self.fractions) != 3
            or min(self.fractions) < 0
            or abs(sum(self.fractions) - 1) > 1e-6
        ):
            raise ConfigError(
                f"--split must be three non-negative fractions summing to 1, got {self.fractions}"
            )
        _check_positive("min_user_items", self.min_user_items, allow_zero=True)
        _check_positive("min_item_users", self.min_item_users, allow_zero=True)
        _check_positive("synthetic_users", self.synthetic_users)
        _check_positive("synthetic_items", self.synthetic_items)


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """The model: NextItNet+ (paper section 3.3), or SkipRec with it as backbone (3.4).

    Attributes:
      model: one of `MODELS`.
      embedding_dim: d, the item embedding and channel size (paper: 256).
      num_blocks: N, the number of residual blocks (paper: 32 on ML20, 48 on ML100).
      block_dilations: dilation r of consecutive blocks, repeated to N blocks; a block's two
        convolutions use dilations (r, 2r), so (1, 4) gives the paper's 16 x {1, 2, 4, 8}.
      kernel_size: width of the causal convolutions (paper: 3).
      rezero: learnable lambda initialised to 0 (NextItNet+); False gives NextItNet (lambda = 1).
      softmax: "full" or "sampled" softmax for the training loss.
      num_sampled: negatives per batch for the sampled softmax.
    """

    model: str = "nextitnet_plus"
    embedding_dim: int = 256
    num_blocks: int = 32
    block_dilations: Tuple[int, ...] = (1, 4)
    kernel_size: int = 3
    rezero: bool = True
    softmax: str = "full"
    num_sampled: int = 1000

    def __post_init__(self):
        _check_choice("model", self.model, MODELS)
        _check_choice("softmax", self.softmax, SOFTMAXES)
        _check_positive("embedding_dim", self.embedding_dim)
        _check_positive("num_blocks", self.num_blocks)
        _check_positive("kernel_size", self.kernel_size)
        _check_positive("num_sampled", self.num_sampled)
        if not self.block_dilations or min(self.block_dilations) < 1:
            raise ConfigError(
                f"--block_dilations must be positive integers, got {self.block_dilations}"
            )

    @property
    def dilations(self) -> Tuple[int, ...]:
        """The dilation r of each of the N blocks."""
        pattern = self.block_dilations
        return tuple(pattern[i % len(pattern)] for i in range(self.num_blocks))


@dataclasses.dataclass(frozen=True)
class PolicyConfig:
    """The SkipRec policy and how it learns (paper section 3.4-3.5); unused by NextItNet+.

    Attributes:
      policy: "cnn" (the paper's 2-block NextItNet), "gru" (Table 4) or "random" (Table 3:
        every block retained with probability 0.5, whatever the training method).
      temperature: tau of the Gumbel-softmax (Eq. 7; paper: 10).
      gamma: penalty of a wrong recommendation in the reward (Eq. 8; paper: 1).
      beta: weight of the RL loss (Eq. 10; paper: 1).
      reward_top_k: a recommendation is correct when the true item is in the top k (5).
      warmup_epochs: first epochs trained with every block and no policy (authors' `rl_iter`).
      curriculum_epochs: after the warm-up, epochs over which the policy takes over the blocks
        from the last one backwards (BlockDrop's curriculum); 0 = all at once.
      target_usage: optional fraction of blocks to aim for, beyond the paper; None = off.
      usage_weight: weight of the penalty (usage - target_usage)^2.
      init_from: run directory or checkpoint of a trained backbone for two-stage training.
    """

    policy: str = "cnn"
    temperature: float = 10.0
    gamma: float = 1.0
    beta: float = 1.0
    reward_top_k: int = 5
    warmup_epochs: int = 0
    curriculum_epochs: int = 0
    target_usage: Optional[float] = None
    usage_weight: float = 1.0
    init_from: str = ""

    def __post_init__(self):
        _check_choice("policy", self.policy, POLICIES)
        if not self.temperature > 0:
            raise ConfigError(f"--temperature must be positive, got {self.temperature}")
        _check_positive("reward_top_k", self.reward_top_k)
        _check_positive("warmup_epochs", self.warmup_epochs, allow_zero=True)
        _check_positive("curriculum_epochs", self.curriculum_epochs, allow_zero=True)
        if self.target_usage is not None and not 0.0 <= self.target_usage <= 1.0:
            raise ConfigError(f"--target_usage must be in [0, 1], got {self.target_usage}")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Optimisation (paper section 4.3: batch 256, Adam, learning rate 1e-3).

    Attributes:
      batch_size: sequences per training step.
      eval_batch_size: sequences per evaluation step.
      learning_rate: Adam's learning rate.
      epochs: passes over the training sequences.
      seed: seed of weight initialisation and data order.
      jit_compile: compile train and test steps with XLA.
    """

    batch_size: int = 256
    eval_batch_size: int = 512
    learning_rate: float = 1e-3
    epochs: int = 20
    seed: int = 0
    jit_compile: bool = False

    def __post_init__(self):
        _check_positive("batch_size", self.batch_size)
        _check_positive("eval_batch_size", self.eval_batch_size)
        _check_positive("epochs", self.epochs)
        if not self.learning_rate > 0:
            raise ConfigError(f"--learning_rate must be positive, got {self.learning_rate}")


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
        if self.policy.init_from and self.model.model == "nextitnet_plus":
            raise ConfigError(
                "--init_from initialises a SkipRec backbone: use it with --model=skiprec_*"
            )

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "RunConfig":
        raw = json.loads(text)
        return cls(
            data=DataConfig(**_tuples(raw["data"])),
            model=ModelConfig(**_tuples(raw["model"])),
            policy=PolicyConfig(**raw.get("policy", {})),
            train=TrainConfig(**raw["train"]),
            run_dir=raw["run_dir"],
            resume=raw["resume"],
        )


def _tuples(fields: dict) -> dict:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}


def _check_choice(flag: str, value: str, choices) -> None:
    if value not in choices:
        raise ConfigError(f"--{flag}={value!r} is not one of {', '.join(choices)}")


def _check_positive(flag: str, value: int, allow_zero: bool = False) -> None:
    if value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(
            f"--{flag} must be {'non-negative' if allow_zero else 'positive'}, got {value}"
        )
