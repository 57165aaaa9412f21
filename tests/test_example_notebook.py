"""The example notebook (examples/tour.ipynb) runs top to bottom in a fresh kernel, and its results
show as tables and charts (HTML with an embedded PNG), not as dumps."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "tour.ipynb"


def test_tour_notebook_runs_top_to_bottom() -> None:
    nbformat = pytest.importorskip("nbformat", reason="nbformat is in the test extra")
    nbclient = pytest.importorskip("nbclient", reason="nbclient is in the test extra")
    pytest.importorskip("ipykernel", reason="ipykernel is in the test extra")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]), "MPLBACKEND": "Agg"}
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    # the kernel inherits this process's environment: the checkout's code, a headless matplotlib
    old = dict(os.environ)
    os.environ.update(env)
    try:
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    outputs = {i: c.get("outputs", []) for i, c in enumerate(nb.cells) if c.cell_type == "code"}
    errors = [o for outs in outputs.values() for o in outs if o.get("output_type") == "error"]
    assert not errors, errors
    html = [o["data"]["text/html"] for outs in outputs.values() for o in outs if "text/html" in o.get("data", {})]
    # predict, frontier, price sheet, simulation and search show as HTML tables; four carry a chart
    assert sum("<table>" in h for h in html) >= 5, len(html)
    assert sum("data:image/png;base64," in h for h in html) >= 4
    plain = [o["data"]["text/plain"] for outs in outputs.values() for o in outs if "text/plain" in o.get("data", {})]
    assert all(len(t) < 4000 for t in plain), max(len(t) for t in plain)
