"""Data for sweeps: IMDB (downloaded or local), a user's own table, or generated reviews."""

from sweep.data._dataset import Dataset, load_dataset
from sweep.data._locate import IMDB_SHA256, IMDB_URL, cache_dir, download_imdb, locate
from sweep.data._vectorize import pad, tokenize

__all__ = [
    "IMDB_SHA256",
    "IMDB_URL",
    "Dataset",
    "cache_dir",
    "download_imdb",
    "load_dataset",
    "locate",
    "pad",
    "tokenize",
]
