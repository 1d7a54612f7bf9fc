"""File formats playml reads and writes so models move between playml, ml5.js and TensorFlow.js.

- :mod:`playml.formats.tfjs` — TensorFlow.js layers models (``model.json`` + ``model.weights.bin``)
  to and from ``torch.nn.Sequential``.
- :mod:`playml.formats.ml5` — ml5.js's ``model_meta.json`` (inputs, outputs, labels,
  normalisation) and its training-data JSON.
"""
