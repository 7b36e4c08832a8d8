"""The flags derived from the config dataclasses: one per field, with its default and help."""

import dataclasses

import pytest
from absl import flags

from skiprec_tf import config_flags
from skiprec_tf.config import (
    SECTIONS,
    DataConfig,
    ModelConfig,
    PolicyConfig,
    RunConfig,
    TrainConfig,
    flag_name,
)
from skiprec_tf.errors import ConfigError


@pytest.fixture
def flag_values():
    values = flags.FlagValues()
    config_flags.define_config_flags(values)
    return values


def _parse(flag_values, *argv):
    flag_values(["prog", *argv])
    return config_flags.config_from_flags(flag_values)


def test_every_config_field_has_one_flag_with_its_help(flag_values):
    fields = [f for section in SECTIONS.values() for f in dataclasses.fields(section)]
    names = [flag_name(f) for f in fields]
    assert len(names) == len(set(names)), "two fields share a flag"
    assert sorted(names) == sorted(flag_values)
    for field in fields:
        # (absl puts an enum's choices before its help)
        assert flag_values[flag_name(field)].help.endswith(field.metadata["help"]), field.name


def test_the_flag_defaults_give_the_dataclass_defaults(flag_values):
    config = _parse(flag_values)
    # The one field whose flag has its own default: the cache directory.
    assert config.data.cache_dir.endswith(".cache/skiprec_tf") and "~" not in config.data.cache_dir
    without_cache = dataclasses.replace(config.data, cache_dir=None)
    assert dataclasses.replace(config, data=without_cache) == RunConfig()


def test_flags_set_renamed_fields_lists_enums_and_optionals(flag_values):
    config = _parse(
        flag_values,
        "--data_name=beauty",
        "--split=0.7,0.1,0.2",
        "--split_seed=3",
        "--cache_dir=",
        "--block_dilations=1,2,4",
        "--norezero",
        "--softmax=sampled",
        "--target_usage=0.5",
        "--seed=9",
    )
    assert (config.data.name, config.data.fractions, config.data.seed) == (
        "beauty",
        (0.7, 0.1, 0.2),
        3,
    )
    assert config.data.cache_dir is None
    assert config.model.block_dilations == (1, 2, 4) and not config.model.rezero
    assert config.model.softmax == "sampled" and config.policy.target_usage == 0.5
    assert config.train.seed == 9


def test_a_list_of_the_wrong_type_names_the_flag(flag_values):
    with pytest.raises(ConfigError, match="--block_dilations=1,x is not a list of ints"):
        _parse(flag_values, "--block_dilations=1,x")


def test_an_enum_rejects_other_values_at_parse_time(flag_values):
    with pytest.raises(flags.IllegalFlagValueError, match="cut"):
        flag_values(["prog", "--cut=oldest"])


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: DataConfig(format="csv"), "--data_format must be one of synthetic, "),
        (lambda: DataConfig(min_user_items=-1), "--min_user_items must be a non-negative integer"),
        (lambda: DataConfig(fractions=(1, 1, 1)), "--split must be fractions summing to 1"),
    ],
)
def test_a_bad_value_names_the_flag_not_the_field(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


@pytest.mark.parametrize(
    "line, name", [("--num_block=4", "num_block"), ("--norezeros", "norezeros")]
)
def test_an_unknown_flag_in_a_nested_flagfile_names_the_file_and_line(
    flag_values, tmp_path, capsys, line, name
):
    inner = tmp_path / "inner.cfg"
    inner.write_text(f"# a comment\n--seq_len=10\n{line}\n")
    outer = tmp_path / "outer.cfg"
    outer.write_text(f"--flagfile={inner}\n")
    with pytest.raises(SystemExit) as info:
        config_flags.parse_flags(["prog", f"--flagfile={outer}"], flag_values)
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert f"Unknown command line flag '{name}'" in err and f"(in {inner}:3)" in err


def test_an_unknown_flag_names_the_file_and_line_in_the_message(flag_values, tmp_path, capsys):
    flagfile = tmp_path / "run.cfg"
    flagfile.write_text("--seq_len=10\n--num_block=4\n")
    with pytest.raises(SystemExit):
        config_flags.parse_flags(["prog", f"--flagfile={flagfile}"], flag_values)
    assert capsys.readouterr().err == (
        "FATAL Flags parsing error: Unknown command line flag 'num_block'. Did you mean: "
        f"num_blocks ? (in {flagfile}:2)\nPass --helpshort or --helpfull to see help on flags.\n"
    )


def test_an_unknown_flag_on_the_command_line_is_absls_message(flag_values, capsys):
    with pytest.raises(SystemExit):
        config_flags.parse_flags(["prog", "--num_blok=3"], flag_values)
    assert "Unknown command line flag 'num_blok'. Did you mean: num_blocks ?\n" in (
        capsys.readouterr().err
    )


def test_the_flagfile_of_a_config_reproduces_it(flag_values, tmp_path):
    config = RunConfig(
        data=DataConfig(seq_len=11, fractions=(0.7, 0.1, 0.2), cache_dir=None),
        model=ModelConfig(model="skiprec_rl", embedding_dim=16, tied_embeddings=True),
        policy=PolicyConfig(policy_learning_rate=1e-4, target_usage=None),
        train=TrainConfig(epochs=3, jit_compile=False),
        run_dir="runs/x",
        resume=True,
    )
    text = config_flags.flagfile_text(config)
    flags_set = [line.split("=")[0] for line in text.splitlines() if line.startswith("--")]
    for flag in ("--resume", "--noresume", "--run_dir", "--nohelp", "--stderrthreshold"):
        assert flag not in flags_set, flag
    path = tmp_path / "flags.cfg"
    path.write_text(text)
    reread = _parse(flag_values, f"--flagfile={path}")
    assert reread == dataclasses.replace(config, run_dir="", resume=False)


def test_a_resumed_config_is_the_runs_with_the_resumable_flags_given(flag_values):
    saved = RunConfig(model=ModelConfig(embedding_dim=16), train=TrainConfig(epochs=2))
    flag_values(["prog", "--epochs=5", "--embedding_dim=16", "--patience=2"])
    resumed = config_flags.resumed_config(saved, flag_values, run_dir="r")
    assert resumed.train == TrainConfig(epochs=5, patience=2)
    assert resumed.model == saved.model and resumed.data == saved.data
    assert resumed.run_dir == "r" and resumed.resume


def test_a_resumed_config_lists_every_other_flag_that_differs(flag_values):
    flag_values(["prog", "--seq_len=11", "--learning_rate=0.01", "--epochs=3"])
    with pytest.raises(ConfigError) as error:
        config_flags.resumed_config(RunConfig(), flag_values, run_dir="r")
    message = str(error.value)
    assert "--seq_len=11 (the run's: 20)" in message
    assert "--learning_rate=0.01 (the run's: 0.001)" in message
    assert "--epochs" not in message.split(". ")[0]
