"""The exceptions sweep raises on bad input; the CLI turns each into one line and exit code 2."""

from __future__ import annotations


class SweepError(Exception):
    """Base class: a problem the user can fix (bad input, missing data, unknown study)."""


class ConfigError(SweepError):
    """A parameter value, a `--set` option or a study-file key is invalid."""


class StudyFileError(ConfigError):
    """A study file is malformed; the message names the file and the key path."""


class DataError(SweepError):
    """The data cannot be found, downloaded, read or subset as asked."""


class StorageError(SweepError):
    """The study storage cannot be reached or does not hold what was asked for."""


class TrialFailed(SweepError):
    """A trial cannot finish (for example its loss became NaN); the study goes on."""
