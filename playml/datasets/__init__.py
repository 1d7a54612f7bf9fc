"""Sample data sets that explain themselves, plus your own folders and tables.

>>> import playml as ml
>>> [d.name for d in ml.datasets.list()][:3]
['iris', 'wine', 'breast_cancer']
>>> iris = ml.datasets.load("iris")
>>> print(iris.describe())                                      # doctest: +SKIP
>>> train, val, test = iris.split(0.7, 0.15, 0.15, stratify=True, seed=0)
>>> photos = ml.datasets.from_folder("my_photos/")              # doctest: +SKIP
>>> table = ml.datasets.from_csv("readings.csv", label="activity")  # doctest: +SKIP

Every bundled data set comes from a package playml already installs (nothing is
downloaded) and has a data card: origin, collection, license, fields, labels, gaps.
"""

from __future__ import annotations

from playml.datasets.dataset import KINDS, Dataset, is_dataset
from playml.datasets.registry import DatasetInfo, card, list_datasets, load

list = list_datasets  # noqa: A001  (ml.datasets.list() reads best; the builtin is not used here)

__all__ = ["Dataset", "DatasetInfo", "KINDS", "list", "load", "card", "from_folder", "from_csv", "is_dataset"]


def __getattr__(name: str):
    if name in ("from_folder", "from_csv"):
        from playml.datasets import files

        return getattr(files, name)
    raise AttributeError(f"module 'playml.datasets' has no attribute {name!r}")
