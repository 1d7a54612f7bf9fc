"""Every task of playml, once: the map the rest of the package reads.

Each :class:`Task` names where a task lives (``"module:attribute"`` strings, so reading
the map imports nothing), its public factory and class, the result types it returns, the
kind it saves as (so :func:`playml.load` knows what to rebuild) and where its model cards
come from (so :func:`playml.models` can list them). ``playml/__init__.py`` builds the
public names from this map, ``playml.core.saving`` its kinds, ``playml.zoo`` its cards,
and ``tests/test_conventions.py`` checks the task contract over every entry.

To add a task: write its module in the right area folder, add one :class:`Task` here, and
follow CONTRIBUTING.md ("Adding a task").
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "Task",
    "TASKS",
    "EXTRA_NAMES",
    "FOLDER_LOADERS",
    "task",
    "saved_kinds",
    "card_sources",
    "folder_loaders",
    "public_names",
]


@dataclass(frozen=True)
class Task:
    """One task: where it lives and what it offers."""

    name: str  #: short name, e.g. ``"image_classifier"``
    area: str  #: the folder: images, bodies, sound, text, tabular
    cls: str  #: ``"module:Class"`` of the task class
    factory: str | None = None  #: ``"module:function"`` of the one-liner (``ml.<name>``), if any
    results: tuple[str, ...] = ()  #: ``"module:Class"`` of each result type it returns
    kind: str | None = None  #: the kind it saves as (``model_meta.json``), if it saves
    cards: str | None = None  #: ``"module:function"`` returning its model cards, if any
    learner: bool = False  #: learns from examples: ``train(...) -> History``
    aliases: tuple[str, ...] = field(default=())  #: extra saved kinds it reads


TASKS: tuple[Task, ...] = (
    # images
    Task(
        "image_classifier",
        "images",
        "playml.images.classifier:ImageClassifier",
        factory="playml.images.classifier:image_classifier",
        results=("playml.results:Prediction",),
        cards="playml.zoo:image_cards",
    ),
    Task(
        "feature_extractor",
        "images",
        "playml.images.features:FeatureExtractor",
        factory="playml.images.features:feature_extractor",
    ),
    Task(
        "image_classification",
        "images",
        "playml.images.transfer:ImageClassification",
        results=("playml.results:Prediction", "playml.core.evaluation:EvaluationReport"),
        kind="image_classification",
        learner=True,
    ),
    Task(
        "image_regression",
        "images",
        "playml.images.transfer:ImageRegression",
        results=("playml.results:Value", "playml.core.evaluation:RegressionReport"),
        kind="image_regression",
        learner=True,
    ),
    Task(
        "image_search",
        "images",
        "playml.images.search:ImageSearch",
        factory="playml.images.search:image_search",
        results=("playml.images.search:Match", "playml.images.search:SearchScore"),
        kind="image_search",
    ),
    Task(
        "object_detector",
        "images",
        "playml.images.objects:ObjectDetector",
        factory="playml.images.objects:object_detector",
        results=("playml.results:Detection",),
        cards="playml.zoo.tfjs_models:cards",
    ),
    # bodies, hands, faces
    Task(
        "body_pose",
        "bodies",
        "playml.bodies.pose:BodyPose",
        factory="playml.bodies.pose:body_pose",
        results=("playml.results:Pose", "playml.results:Box", "playml.results:Keypoint"),
        cards="playml.zoo.mediapipe_cards:cards",
    ),
    Task(
        "movenet_pose",
        "bodies",
        "playml.bodies.movenet:MoveNetPose",
        results=("playml.results:Pose", "playml.results:Box", "playml.results:Keypoint"),
        cards="playml.zoo.tfjs_models:cards",
    ),
    Task(
        "hand_detector",
        "bodies",
        "playml.bodies.handtrack:HandDetector",
        factory="playml.bodies.handtrack:hand_detector",
        results=("playml.results:Detection",),
        cards="playml.zoo.tfjs_models:cards",
    ),
    Task(
        "hand_pose",
        "bodies",
        "playml.bodies.hands:HandPose",
        factory="playml.bodies.hands:hand_pose",
        results=("playml.results:Hand",),
    ),
    Task(
        "face_mesh",
        "bodies",
        "playml.bodies.face:FaceMesh",
        factory="playml.bodies.face:face_mesh",
        results=("playml.results:Face", "playml.results:FacePart"),
    ),
    Task(
        "body_segmentation",
        "bodies",
        "playml.bodies.segmentation:BodySegmentation",
        factory="playml.bodies.segmentation:body_segmentation",
        results=("playml.results:Mask",),
    ),
    # sound
    Task(
        "pitch_detection",
        "sound",
        "playml.sound.pitch:PitchDetector",
        factory="playml.sound.pitch:pitch_detection",
        results=("playml.sound.pitch:Pitch", "playml.sound.pitch:PitchTrack"),
        cards="playml.sound.pitch:pitch_cards",
    ),
    Task(
        "sound_classifier",
        "sound",
        "playml.sound.sounds:SoundClassifier",
        factory="playml.sound.sounds:sound_classifier",
        results=("playml.results:Prediction",),
        kind="sound_classifier",
        cards="playml.sound.sounds:sound_cards",
        learner=True,
    ),
    # text
    Task(
        "sentence_encoder",
        "text",
        "playml.text.sentences:SentenceEncoder",
        factory="playml.text.sentences:sentence_encoder",
        results=("playml.text.sentences:SimilarText",),
        cards="playml.text.sentences:sentence_cards",
    ),
    Task(
        "sentiment",
        "text",
        "playml.text.sentiment:SentimentAnalyzer",
        factory="playml.text.sentiment:sentiment",
        results=("playml.text.sentiment:Sentiment",),
        cards="playml.text.sentiment:sentiment_cards",
    ),
    # create
    Task(
        "style_transfer",
        "images",
        "playml.images.style:StyleTransfer",
        factory="playml.images.style:style_transfer",
        cards="playml.images.style:style_cards",
    ),
    Task(
        "char_rnn",
        "text",
        "playml.text.charrnn:CharRNN",
        factory="playml.text.charrnn:char_rnn",
        kind="char_rnn",
        learner=True,
    ),
    # numbers and tables
    Task(
        "neural_network",
        "tabular",
        "playml.tabular.network:NeuralNetwork",
        factory="playml.tabular.network:neural_network",
        results=("playml.results:Prediction", "playml.results:Value"),
        kind="neural_network",
        learner=True,
    ),
    Task(
        "anomaly_detector",
        "tabular",
        "playml.tabular.anomaly:AnomalyDetector",
        factory="playml.tabular.anomaly:anomaly_detector",
        results=("playml.core.evaluation:AnomalyReport",),
        kind="anomaly_detector",
        learner=True,
    ),
    # Teachable Machine projects (image, pose or sound): examples, settings and model in one folder
    Task(
        "project",
        "projects",
        "playml.projects.project:Project",
        factory="playml.projects.project:project",
        results=("playml.results:Prediction",),
        kind="teach_project",
        learner=True,
    ),
)

#: Public names that are not tasks: blocks and surfaces the public face offers.
EXTRA_NAMES: dict[str, str] = {
    "load": "playml.core.saving:load",
    "models": "playml.zoo:models",
    "ModelCard": "playml.zoo.cards:ModelCard",
    "History": "playml.core.training:History",
    "EvaluationReport": "playml.core.evaluation:EvaluationReport",
    "RegressionReport": "playml.core.evaluation:RegressionReport",
    "datasets": "playml.datasets:",
    "Dataset": "playml.datasets:Dataset",
    "draw": "playml.core.drawing:draw",
    "webcam": "playml.core.video:webcam",
    "studio": "playml.web:studio",
    "load_project": "playml.projects.project:load_project",
    "Result": "playml.results:Result",
    # models from the browser (ml.load returns them): Teachable Machine image exports, any TF.js layers model
    "TeachableMachineImage": "playml.images.teachable_machine:TeachableMachineImage",
    "TFJSLayersModel": "playml.formats.tfjs:LayersModel",
    "Predictions": "playml.results:Predictions",
    "samples": "playml.samples:",
    # look inside an image model: summary, activations, value distributions, Grad-CAM
    "model_explorer": "playml.images.explain:model_explorer",
    "ModelExplorer": "playml.images.explain:ModelExplorer",
    "LayerSummary": "playml.images.explain:LayerSummary",
    "ValueDistribution": "playml.images.explain:ValueDistribution",
    "GradCAM": "playml.images.explain:GradCAM",
    "InputAttribution": "playml.images.explain:InputAttribution",
}


#: Folders written by other tools, found by their files (``playml.core.saving.detect``) → the
#: ``"module:function"`` that loads one from its path.
FOLDER_LOADERS: dict[str, str] = {
    "teachable-machine": "playml.images.teachable_machine:load_teachable_machine",
    "tfjs-graph": "playml.formats.tfjs_graph:load_graph_model",
    "tfjs-layers": "playml.formats.tfjs:load_layers_model",
}


def folder_loaders() -> dict[str, str]:
    """Kind of foreign folder → ``"module:function"`` loading it (see :data:`FOLDER_LOADERS`)."""
    return dict(FOLDER_LOADERS)


def task(name: str) -> Task:
    """The registered task called ``name`` (``KeyError`` if none)."""
    for t in TASKS:
        if t.name == name:
            return t
    raise KeyError(name)


def saved_kinds() -> dict[str, str]:
    """Saved kind → ``"module:Class"`` that rebuilds it (``Class._from_directory(path, meta)``)."""
    kinds = {}
    for t in TASKS:
        for kind in (t.kind, *t.aliases):
            if kind:
                kinds[kind] = t.cls
    return kinds


def card_sources() -> list[str]:
    """``"module:function"`` of every task's model cards, each once, in task order."""
    return list(dict.fromkeys(t.cards for t in TASKS if t.cards))


def public_names() -> dict[str, str]:
    """Every public name of ``playml`` → ``"module:attribute"``: factories, task classes,
    result types and the extra names."""
    names: dict[str, str] = {}
    for t in TASKS:
        if t.factory:
            names[t.factory.rpartition(":")[2]] = t.factory
        names[t.cls.rpartition(":")[2]] = t.cls
        for result in t.results:
            names[result.rpartition(":")[2]] = result
    names.update(EXTRA_NAMES)
    return names
