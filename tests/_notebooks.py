"""Run notebooks in a real Jupyter kernel (ipykernel + nbclient), as a teacher's machine would."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_notebook(nb, cwd: Path, *, timeout: int = 600):
    """Execute ``nb`` (an nbformat notebook) with ``cwd`` as the kernel's folder; returns it with outputs.

    No ``%matplotlib`` magic and no display set-up is added: what is tested is what a fresh
    kernel shows. The kernel imports this checkout's playml (PYTHONPATH) and never touches
    the network (it runs inside the test process's namespace, see scripts/offline).
    """
    from nbclient import NotebookClient

    env_before = {k: os.environ.get(k) for k in ("PYTHONPATH", "MPLBACKEND")}
    os.environ["PYTHONPATH"] = str(ROOT) + (os.pathsep + env_before["PYTHONPATH"] if env_before["PYTHONPATH"] else "")
    os.environ.pop("MPLBACKEND", None)  # a notebook's own default backend, as for a user
    try:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=False,
                                resources={"metadata": {"path": str(cwd)}})
        client.execute()
    finally:
        for k, v in env_before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return nb


def outputs_of(cell) -> list[dict]:
    return list(cell.get("outputs", []))


def mime_types(cell) -> set[str]:
    kinds: set[str] = set()
    for out in outputs_of(cell):
        kinds |= set(out.get("data", {}))
    return kinds


def stderr_text(nb) -> str:
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in outputs_of(c)
                   if o.get("output_type") == "stream" and o.get("name") == "stderr")


def chart_cells(nb) -> list:
    """Code cells whose last line makes a chart (``….plot(…)``, ``plot_map``, ``plot_latent``…)."""
    import re

    out = []
    for c in nb.cells:
        if c.cell_type != "code" or not c.source.strip():
            continue
        last = c.source.strip().splitlines()[-1].split("#")[0].strip()
        if re.search(r"\.plot(_\w+)?\(.*\)$", last):
            out.append(c)
    return out
