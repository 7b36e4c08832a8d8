"""absl flags derived from the config dataclasses: one flag per field, and the configs back.

Every field of `DataConfig`, `ModelConfig`, `PolicyConfig` and `TrainConfig` becomes a flag of its
name (or its `option(flag=...)`), its default and its help; an enum where it has choices, a
list where it is a tuple. Only `main` calls this module.
"""

import dataclasses
import os
import re
import sys
import types
import typing

from absl import flags

from skiprec_tf.config import RESUMABLE, SECTIONS, RunConfig, field_types, flag_name, flag_text
from skiprec_tf.errors import ConfigError


def define_config_flags(flag_values=flags.FLAGS) -> None:
    """Defines the flag of every config field in `flag_values`."""
    for section in SECTIONS.values():
        types_ = field_types(section)
        for field in dataclasses.fields(section):
            _define(field, types_[field.name], flag_values)


def config_from_flags(flag_values=flags.FLAGS, run_dir: str = "", resume: bool = False):
    """The `RunConfig` of the parsed flags (raises `ConfigError` naming a bad flag)."""
    sections = {}
    for name, section in SECTIONS.items():
        types_ = field_types(section)
        sections[name] = section(
            **{
                field.name: _value(field, types_[field.name], flag_values)
                for field in dataclasses.fields(section)
            }
        )
    return RunConfig(**sections, run_dir=run_dir, resume=resume)


def parse_flags(argv, flag_values=flags.FLAGS):
    """`app.run`'s flag parser: absl's, but an unknown flag read from a flagfile names the file
    and line (absl names only the flag), and --help, --helpshort and --helpfull exit 0 (absl's
    exit 1, an error to a shell). Exits with absl's usage message on a bad flag."""
    try:
        return flag_values(argv)
    except SystemExit as exit_:
        if exit_.code == 1 and any(_HELP.match(arg) for arg in argv[1:]):
            sys.exit(0)  # absl printed the help asked for
        raise
    except flags.Error as error:
        message = str(error)
        if isinstance(error, flags.UnrecognizedFlagError):
            message += _flagfile_line(argv, error.flagname)
        sys.stderr.write(
            f"FATAL Flags parsing error: {message}\n"
            "Pass --helpshort or --helpfull to see help on flags.\n"
        )
        sys.exit(1)


_HELP = re.compile(r"^--?(help|helpshort|helpfull|helpxml|h|\?)$")


def _flagfile_line(argv, name: str, depth: int = 0) -> str:
    """` (in <flagfile>:<line>)` for the first line setting `--name` in a flagfile of `argv`."""
    pattern = re.compile(rf"^\s*--?(no)?{re.escape(name)}(=|\s|$)")
    for arg in argv:
        match = re.match(r"^--?flagfile=(.+)$", arg)
        if not match or depth > 10:
            continue
        path = os.path.expanduser(match.group(1))
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                lines = f.read().splitlines()
        except OSError:
            continue
        for lineno, line in enumerate(lines, start=1):
            if pattern.match(line):
                return f" (in {path}:{lineno})"
        nested = _flagfile_line([line.strip() for line in lines], name, depth + 1)
        if nested:
            return nested
    return ""


def resumed_config(saved: RunConfig, flag_values=flags.FLAGS, run_dir: str = "") -> RunConfig:
    """The config of a resumed run: its `saved` one, with the flags given (on the command line or
    in a flagfile) that a resumed run may change (`RESUMABLE`, e.g. --epochs); a `ConfigError`
    lists every other given flag whose value differs from the run's."""
    changes, refused = {}, []
    for name, section in SECTIONS.items():
        types_ = field_types(section)
        for field in dataclasses.fields(section):
            if not flag_values[flag_name(field)].present:
                continue
            value = _value(field, types_[field.name], flag_values)
            old = getattr(getattr(saved, name), field.name)
            if value == old:
                continue
            if field.name in RESUMABLE:
                changes.setdefault(name, {})[field.name] = value
            else:
                refused.append(
                    f"--{flag_name(field)}={flag_text(value)} (the run's: {flag_text(old)})"
                )
    if refused:
        raise ConfigError(
            f"--resume: {run_dir} was trained with other settings: {'; '.join(refused)}. "
            f"Leave them out (the run's own are used); only --{', --'.join(sorted(RESUMABLE))} "
            "may change"
        )
    sections = {
        name: dataclasses.replace(getattr(saved, name), **changes.get(name, {}))
        for name in SECTIONS
    }
    return RunConfig(**sections, run_dir=run_dir, resume=True)


def flagfile_text(config: RunConfig) -> str:
    """The flags of `config`'s fields, one a line: a flagfile that reproduces the run (without
    --run_dir, so that rerunning it does not collide with the run)."""
    lines = [
        "# The settings of a run: rerun it with --flagfile=<this file> --run_dir=<a new",
        "# directory>, continue it with --run_dir=<its directory> --resume.",
    ]
    for name, section in SECTIONS.items():
        for field in dataclasses.fields(section):
            value, flag = getattr(getattr(config, name), field.name), flag_name(field)
            if isinstance(value, bool):
                lines.append(f"--{flag}" if value else f"--no{flag}")
            elif value is not None:
                lines.append(f"--{flag}={flag_text(value)}")
            elif field.metadata["flag_default"] is not None:
                lines.append(f"--{flag}=")  # an empty path turns the option off
            # else None is the flag's default: nothing to write
    return "\n".join(lines) + "\n"


def _define(field, kind, flag_values) -> None:
    name, default = flag_name(field), field.metadata["flag_default"]
    help_text, choices = field.metadata["help"], field.metadata.get("choices")
    kind = _optional_of(kind) or kind
    if choices:
        flags.DEFINE_enum(name, default, choices, help_text, flag_values=flag_values)
    elif typing.get_origin(kind) is tuple:
        flags.DEFINE_list(name, [str(v) for v in default], help_text, flag_values=flag_values)
    elif kind is bool:
        flags.DEFINE_bool(name, default, help_text, flag_values=flag_values)
    elif kind is int:
        flags.DEFINE_integer(name, default, help_text, flag_values=flag_values)
    elif kind is float:
        flags.DEFINE_float(name, default, help_text, flag_values=flag_values)
    else:
        flags.DEFINE_string(name, default, help_text, flag_values=flag_values)


def _value(field, kind, flag_values):
    name = flag_name(field)
    value = flag_values[name].value
    optional = _optional_of(kind)
    if optional is str:  # an empty path turns the option off
        return os.path.expanduser(value) if value else None
    if typing.get_origin(kind) is tuple:
        return parse_list(name, value, typing.get_args(kind)[0])
    return value


def parse_list(flag: str, values, element) -> tuple:
    """The strings of a list flag as a tuple of `element`s, or a `ConfigError` naming the flag."""
    try:
        return tuple(element(v) for v in values)
    except ValueError:
        raise ConfigError(
            f"--{flag}={','.join(values)} is not a list of {element.__name__}s"
        ) from None


def _optional_of(kind):
    """`T` of `T | None`, else None."""
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        if len(args) == 1:
            return args[0]
    return None
