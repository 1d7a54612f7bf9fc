"""Teachable Machine projects: classes, every example, the settings and the trained model, in one folder.

>>> import playml as ml
>>> project = ml.Project("image")                                # doctest: +SKIP
>>> project.classifier.add_images("photos/")                      # doctest: +SKIP
>>> project.train(); project.save("my-project")                   # doctest: +SKIP
>>> ml.load_project("my-project").classify("new.jpg")             # doctest: +SKIP

The studio's Teach page saves and opens the same folders.
"""

from playml.projects.project import FORMAT_VERSION, KINDS, Example, Project, ProjectClass, load_project, project

__all__ = ["Project", "ProjectClass", "Example", "project", "load_project", "FORMAT_VERSION", "KINDS"]
