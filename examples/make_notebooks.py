"""Write the teaching notebooks of examples/ (committed without outputs).

    .venv/bin/python examples/make_notebooks.py

Each runs in under a minute on bundled data, with no ``%matplotlib`` magic: the charts
playml returns show themselves. tests/test_examples.py executes them in a real kernel.
"""
from __future__ import annotations

from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent

NOTEBOOKS = {
    "01_classify_photos.ipynb": [
        "# Classify photos with a pretrained model\n\nEfficientNet-Lite0 knows 1,000 ImageNet labels. "
        "Everything runs on this computer.",
        "import playml as ml\n\nclf = ml.image_classifier()\nclf.classify(ml.samples.path('coffee'))",
        "ml.samples.names()",
        "clf.classify(ml.samples.path('chelsea'), top_k=3)",
        "## What does the model know, and where does it fail?\n\nEvery model has a card.",
        "ml.models('efficientnet-lite0')",
    ],
    "02_teach_from_a_folder.ipynb": [
        "# Teach the machine from a folder of photos\n\nTeachable Machine in Python: one sub-folder per "
        "label. We use the bundled `textures` photos (brick, grass, gravel, galaxies); your own folders work "
        "the same way.",
        "import playml as ml\n\ntextures = ml.datasets.load('textures')\ntextures.describe()",
        "train, held_out = textures.split(0.75, 0.25, stratify=True, seed=0)\n"
        "train.to_folder('photos', overwrite=True)\nheld_out.to_folder('held_out', overwrite=True)",
        "clf = ml.feature_extractor().classification(seed=0)\nclf.add_images('photos/')\nclf",
        "history = clf.train(epochs=30)\nhistory.plot()",
        "clf.classify('held_out/grass/grass_001.png')",
        "report = clf.evaluate('held_out/')\nreport.plot()",
        "report",
        "clf.save('my-model/')   # the head in TensorFlow.js's format: loads in ml5.js",
    ],
    "03_neural_network_colours.ipynb": [
        "# A neural network that names colours\n\nml5.js's `neuralNetwork`: add examples, train, classify. "
        "`debug=True` draws the training chart live.",
        "import playml as ml\n\nnn = ml.neural_network(task='classification', inputs=['r', 'g', 'b'], "
        "outputs=['colour'], debug=True, seed=0)\n"
        "examples = {'red': [(255, 0, 0), (220, 30, 40), (180, 20, 10), (255, 80, 60)],\n"
        "            'green': [(0, 255, 0), (40, 200, 60), (20, 150, 30), (100, 230, 90)],\n"
        "            'blue': [(0, 0, 255), (30, 60, 220), (20, 20, 150), (90, 120, 250)]}\n"
        "for name, colours in examples.items():\n    for rgb in colours:\n        nn.add_data(list(rgb), [name])\n"
        "nn.normalize_data()\nhistory = nn.train(epochs=60, batch_size=4)",
        "nn.classify([240, 40, 50])",
        "nn.classify([30, 180, 70])",
        "history.plot()",
    ],
    "04_pose_to_yoga.ipynb": [
        "# From body keypoints to yoga poses\n\nml5.js's classic project, offline: measure a real body on a "
        "photo, generate examples of four yoga poses on it, train a neural network on the 66 keypoint numbers. "
        "With a webcam, record your own poses with `ml.body_pose().detect_stream(ml.webcam())`.",
        "import playml as ml\nimport yoga_pose_classifier as yoga   # examples/yoga_pose_classifier.py\n"
        "from playml.core.media import load_image\n\nphoto = load_image(ml.samples.path('astronaut'))\n"
        "people = ml.body_pose().detect(photo)\nml.draw(photo, people)",
        "body = yoga.measure_body(photo)\ntrain, test = yoga.make_data(body, 60, seed=0), yoga.make_data(body, 20, seed=1)\n"
        "nn = ml.neural_network(task='classification', inputs=len(train[0][0]), outputs=['pose'], seed=0)\n"
        "for x, label in train:\n    nn.add_data(x, [label])\nnn.normalize_data()\n"
        "history = nn.train(epochs=40, batch_size=16, validation_split=0.1)\nhistory.plot()",
        "right = sum(nn.classify(x)[0].label == label for x, label in test)\n"
        "f'{right} of {len(test)} poses it never saw'",
        "nn.classify(yoga.features(people[0]))   # the astronaut: only the upper body shows",
    ],
    "05_pitch.ipynb": [
        "# Pitch: which note is that?\n\nCREPE, the network behind ml5.js's `pitchDetection`.",
        "import numpy as np\nimport playml as ml\n\nrate = 16000\nt = np.arange(2 * rate) / rate\n"
        "frequency = 440 * 2 ** (np.floor(t * 2) / 12)          # A4, then up a semitone every half second\n"
        "hum = 0.5 * np.sin(2 * np.pi * np.cumsum(frequency) / rate)\n"
        "pitch = ml.pitch_detection()\npitch.get_pitch(hum[:rate // 2], sample_rate=rate)",
        "track = pitch.track(hum, rate)\ntrack.notes()[::25]",
        "track.plot()",
    ],
    "06_image_search.ipynb": [
        "# Image search: which photos look alike?\n\nConvNet Playground's idea on a folder: embed every photo "
        "with a pretrained network, then find the nearest ones.",
        "import playml as ml\n\nml.datasets.load('textures').to_folder('photos', overwrite=True)\n"
        "index = ml.image_search('photos/')\nindex.query('photos/grass/grass_001.png', k=5)",
        "index.evaluate()",
        "index.plot_map('pca')   # 'umap' (the default from 20 photos) takes 10–30 s the first time",
    ],
    "07_anomalies_ecg.ipynb": [
        "# Anomalies in heartbeats\n\nAn autoencoder learns what normal ECG beats look like; beats it cannot "
        "rebuild well are anomalies (Anomagram's idea).",
        "import playml as ml\n\necg = ml.datasets.load('ecg5000')\ntrain, test = ecg.canonical_split()\n"
        "det = ml.anomaly_detector(seed=0).fit(train.normal_only())\ndet",
        "det.history_",
        "report = det.evaluate(test)\nreport.plot()",
        "det.plot_latent(test)",
        "X, _ = test.arrays()\ndet.plot_reconstruction(X[0])",
    ],
}


def build() -> list[Path]:
    written = []
    for name, cells in NOTEBOOKS.items():
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.cells = [nbformat.v4.new_markdown_cell(c) if c.startswith("#") else nbformat.v4.new_code_cell(c)
                    for c in cells]
        for i, cell in enumerate(nb.cells):
            cell["id"] = f"cell-{i}"
        path = HERE / name
        nbformat.write(nb, path)
        written.append(path)
    return written


if __name__ == "__main__":
    for p in build():
        print(p.name)
