"""Yoga pose classifier: body keypoints → a small neural network (ml5.js's classic project).

In ml5.js you record yourself holding each pose in front of the webcam, collect the bodyPose
keypoints, and train a neuralNetwork on them. This script does the same offline, with no
webcam: it measures a real body on a real photo (the astronaut: head and shoulder geometry),
then generates varied examples of four yoga poses — mountain, tree, warrior II, goddess — on
that body (different limb angles, sizes, positions, tilts and keypoint noise), trains
``ml.neural_network`` on them, checks it on poses it never saw, and classifies the people found
in two real photos.

    .venv/bin/python examples/yoga_pose_classifier.py
    .venv/bin/python examples/yoga_pose_classifier.py --save-data yoga.json --save-model yoga_model/

With a webcam, replace the generated data by ``pose.detect_stream(ml.webcam())`` and add each
frame's ``features(person)`` with the label of the pose you are holding.
"""
from __future__ import annotations

import argparse
import math

import numpy as np

import playml as ml

POSES = ["mountain", "tree", "warrior2", "goddess"]
NAMES = ml.body_pose().keypoint_names()  # the 33 BlazePose keypoint names
IDX = {n: i for i, n in enumerate(NAMES)}
HEAD = ["nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
        "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right"]


def features(person) -> list[float]:
    """66 numbers: keypoints relative to the hips' centre, in torso lengths (size and place free)."""
    xy = person.to_numpy() if hasattr(person, "to_numpy") else np.asarray(person, dtype=np.float32)
    hips = (xy[IDX["left_hip"]] + xy[IDX["right_hip"]]) / 2
    shoulders = (xy[IDX["left_shoulder"]] + xy[IDX["right_shoulder"]]) / 2
    torso = max(float(np.linalg.norm(shoulders - hips)), 1e-6)
    return ((xy - hips) / torso).round(4).ravel().tolist()


def measure_body(photo) -> dict:
    """Head geometry of a real person, in shoulder widths around the shoulders' centre."""
    person = ml.body_pose().detect(photo)[0]
    xy = person.to_numpy()
    left, right = xy[IDX["left_shoulder"]], xy[IDX["right_shoulder"]]
    width = float(np.linalg.norm(left - right))
    centre = (left + right) / 2
    return {"head": {n: (xy[IDX[n]] - centre) / width for n in HEAD}, "shoulder_width": width}


def _limb(start, length, angle, side):
    """A point ``length`` from ``start``; angle 0 = straight down, π/2 = out to the side, π = up."""
    return start + length * np.array([side * math.sin(angle), math.cos(angle)])


def make_pose(label: str, body: dict, rng: np.random.Generator) -> np.ndarray:
    """33×2 keypoints (pixels) of one person holding ``label``, with random variation."""
    j = lambda spread=0.15: rng.normal(0, spread)  # noqa: E731 - small angle jitter
    sw = 1.0 + j(0.08)            # shoulder width (unit)
    torso = 1.45 * (1 + j(0.06))  # shoulders → hips
    upper, fore = 0.62 * (1 + j(0.05)), 0.55 * (1 + j(0.05))
    thigh, shin = 0.95 * (1 + j(0.05)), 0.9 * (1 + j(0.05))
    front = rng.choice([-1, 1])   # which leg bends (for tree and warrior)
    # (upper arm, forearm, thigh, shin) angles per side; side +1 = the person's left
    if label == "mountain":
        arms = {s: (0.12 + j(), 0.08 + j()) for s in (1, -1)}
        legs = {s: (0.04 + j(0.04), 0.02 + j(0.04)) for s in (1, -1)}
    elif label == "tree":
        arms = {s: (2.75 + j(), 3.5 + j()) for s in (1, -1)}
        legs = {front: (1.45 + j(), -0.5 + j()), -front: (0.02 + j(0.04), 0.0 + j(0.04))}
    elif label == "warrior2":
        arms = {s: (1.57 + j(0.1), 1.57 + j(0.1)) for s in (1, -1)}
        legs = {front: (1.1 + j(), 0.2 + j()), -front: (0.55 + j(), 0.55 + j())}
    elif label == "goddess":
        arms = {s: (1.57 + j(), 3.05 + j()) for s in (1, -1)}
        legs = {s: (1.0 + j(), 0.2 + j()) for s in (1, -1)}
    else:
        raise ValueError(label)
    pts = {}
    shoulder_c = np.array([0.0, 0.0])
    for s, side in ((1, "left"), (-1, "right")):
        sh = shoulder_c + [s * sw / 2, 0]
        el = _limb(sh, upper, arms[s][0], s)
        wr = _limb(el, fore, arms[s][1], s)
        hand_dir = (wr - el) / np.linalg.norm(wr - el)
        hip = shoulder_c + [s * sw * 0.36, torso]
        kn = _limb(hip, thigh, legs[s][0], s)
        an = _limb(kn, shin, legs[s][1], s)
        pts.update({f"{side}_shoulder": sh, f"{side}_elbow": el, f"{side}_wrist": wr,
                    f"{side}_pinky": wr + 0.12 * hand_dir + [0.03 * s, 0], f"{side}_index": wr + 0.13 * hand_dir,
                    f"{side}_thumb": wr + 0.08 * hand_dir - [0.04 * s, 0], f"{side}_hip": hip,
                    f"{side}_knee": kn, f"{side}_ankle": an, f"{side}_heel": an + [0.02 * s, 0.06],
                    f"{side}_foot_index": an + [0.1 * s, 0.1]})
    for name, offset in body["head"].items():
        pts[name] = shoulder_c + offset * sw * (1 + j(0.05))
    xy = np.stack([pts[n] for n in NAMES])
    tilt = j(0.08)
    rot = np.array([[math.cos(tilt), -math.sin(tilt)], [math.sin(tilt), math.cos(tilt)]])
    scale = body["shoulder_width"] * rng.uniform(0.35, 0.55)  # a whole body in a 640×480 frame
    xy = xy @ rot.T * scale + rng.uniform([220, 90], [420, 150])
    return xy + rng.normal(0, 0.015 * scale, xy.shape)


def make_data(body: dict, per_pose: int, seed: int) -> list[tuple[list[float], str]]:
    rng = np.random.default_rng(seed)
    return [(features(make_pose(label, body, rng)), label) for label in POSES for _ in range(per_pose)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-pose", type=int, default=120, help="generated examples per pose")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--save-data", help="save the training data as ml5's data JSON")
    parser.add_argument("--save-model", help="save the trained model (ml5.js / TensorFlow.js files)")
    args = parser.parse_args()

    from skimage import data

    body = measure_body(data.astronaut())
    print(f"measured a real body on the astronaut photo: shoulders {body['shoulder_width']:.0f} px apart")
    train, test = make_data(body, args.per_pose, seed=0), make_data(body, 30, seed=1)

    nn = ml.neural_network(task="classification", inputs=len(train[0][0]), outputs=["pose"])
    for x, label in train:
        nn.add_data(x, [label])
    nn.normalize_data()
    history = nn.train(epochs=args.epochs, batch_size=16, validation_split=0.1)
    print(f"trained: {history}")

    correct = sum(nn.classify(x)[0].label == label for x, label in test)
    accuracy = correct / len(test)
    print(f"accuracy on {len(test)} poses it never saw: {accuracy:.0%}")
    assert accuracy >= 0.9, "the classifier should separate these four poses"

    import matplotlib.cbook
    from PIL import Image

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
        grace = np.asarray(Image.open(f).convert("RGB"))
    for name, photo in (("astronaut", data.astronaut()), ("grace_hopper", grace)):
        people = ml.body_pose().detect(photo)
        if people:
            best = nn.classify(features(people[0]))[0]
            print(f"{name}: {best.label} ({best.confidence:.0%}) — only the upper body is in the photo, "
                  "so the legs are the model's guesses")

    if args.save_data:
        nn.save_data(args.save_data)
        print(f"saved the data to {args.save_data}")
    if args.save_model:
        nn.save(args.save_model)
        print(f"saved the model to {args.save_model} (loads in ml5.js: ml5.neuralNetwork().load(...))")


if __name__ == "__main__":
    main()
