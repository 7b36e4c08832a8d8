"""Errors that the command line reports as one clear line instead of a traceback."""


class SkipRecError(Exception):
    """Base class: a problem with the user's input, reported without a traceback."""


class DataError(SkipRecError):
    """Bad input data; the message names the file and, where known, the line."""


class ConfigError(SkipRecError):
    """An invalid setting; the message names the flag or field."""


class CheckpointError(SkipRecError):
    """A checkpoint that cannot be restored; the message names its file."""


class NonFiniteLossError(SkipRecError):
    """Training diverged: the loss is not finite; the message names the step and epoch."""


class RunDirError(SkipRecError):
    """A run directory that cannot be written (read-only, a full disk); the message names the
    path."""
