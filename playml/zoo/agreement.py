"""How closely a backbone's int8 copy follows float32, on crops of real photos.

Used by the tests (tests/test_int8.py) and by ``bench/images.py``, whose figures go on the
quantised models' cards (:data:`playml.zoo.quantize.AGREEMENT`).
"""

from __future__ import annotations

import numpy as np

from playml.zoo.quantize import PHOTO_LABELS, PRECISIONS, RECHECK_MARGIN, agreement_photos

__all__ = ["measure_agreement"]


def measure_agreement(
    spec,
    n: int = 240,
    threads: int | None = None,
    margin: float = RECHECK_MARGIN,
    crops: list | None = None,
    truth: list[int] | None = None,
) -> dict[str, float]:
    """int8 against float32 on :func:`agreement_photos` (or on ``crops``): top-1 agreement,
    top-5 accuracy of each (on the photos with labels in :data:`PHOTO_LABELS`, or against the
    class indices ``truth``, with top-1 accuracy too), mean and lowest cosine similarity of the
    features, mean squared difference of the logits; and the image classifier's top-1 agreement
    when it re-runs near-ties in float32 (``margin``, see :data:`RECHECK_MARGIN`) with the
    share of crops it re-ran."""
    from playml.zoo import imagenet_labels
    from playml.zoo.preprocessing import preprocess
    from playml.zoo.runtime import BackboneRunner

    if crops is None:
        crops, names = agreement_photos(n)
    else:  # labelled by ``truth`` or not at all
        names = [""] * len(crops)
    batch = preprocess(crops, spec)
    out = {}
    for precision in PRECISIONS:
        out[precision] = BackboneRunner(spec, "features", threads, precision).run(batch, ["features", "logits"])
    rechecking = BackboneRunner(spec, "features", threads, "int8", recheck=margin)
    (rechecked,) = rechecking.run(batch, ["logits"])
    (f32_feats, f32_logits), (q_feats, q_logits) = out["float32"], out["int8"]
    labels = imagenet_labels()
    accepted: list[tuple[str, ...] | None]
    if truth is not None:
        accepted = [(labels[t],) for t in truth]
    else:
        accepted = [PHOTO_LABELS.get(name) for name in names]
    rows = [i for i, a in enumerate(accepted) if a]

    def top5(logits):
        if not rows:
            return float("nan")
        best = np.argsort(-logits, axis=1)[:, :5]
        return float(np.mean([any(labels[j] in accepted[i] for j in best[i]) for i in rows]))

    cos = (f32_feats * q_feats).sum(1) / (np.linalg.norm(f32_feats, axis=1) * np.linalg.norm(q_feats, axis=1))
    return {
        "images": len(crops),
        "top1_agreement": float(np.mean(f32_logits.argmax(1) == q_logits.argmax(1))),
        "top1_rechecked": float(np.mean(f32_logits.argmax(1) == rechecked.argmax(1))),
        "rechecked_share": rechecking.counts["rechecked"] / len(crops),
        "margin": margin,
        "top5_float32": top5(f32_logits),
        "top5_int8": top5(q_logits),
        "labelled": len(rows),
        **(
            {
                f"top1_{p}": float(np.mean(logits.argmax(1) == np.asarray(truth)))
                for p, logits in (("float32", f32_logits), ("int8", q_logits))
            }
            if truth is not None
            else {}
        ),
        "logits_mse": float(np.mean((f32_logits - q_logits) ** 2)),
        "cosine_mean": float(cos.mean()),
        "cosine_min": float(cos.min()),
    }
