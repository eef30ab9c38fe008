"""sweep: hyperparameter-and-ablation sweeps that say which factors explain a model's accuracy.

The public face is small; each concept lives in its own module:
`sweep.params` (the parameter table), `sweep.data` (IMDB and other sources), `sweep.models`
(the Keras builder), `sweep.training` (one fit), and the study machinery built on them.
Importing ``sweep`` does not import TensorFlow.
"""

from sweep.errors import ConfigError, DataError, StorageError, StudyFileError, SweepError
from sweep.params import DEFAULTS, PARAMS, resolve

__all__ = [
    "DEFAULTS",
    "PARAMS",
    "ConfigError",
    "DataError",
    "StorageError",
    "StudyFileError",
    "SweepError",
    "resolve",
]
