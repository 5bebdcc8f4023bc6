"""The explanatory notebook runs top to bottom without errors and is saved with its outputs.

Not marked slow on purpose: it takes about half a minute (mostly training) and CI should run it.
"""

from __future__ import annotations

import time

import pytest

from conftest import ROOT

NOTEBOOK = ROOT / "notebooks" / "01-explore-and-explain.ipynb"

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")


def _kernel_name() -> str:
    """The venv's python3 kernel (ipykernel always provides it when it is installed)."""
    from jupyter_client.kernelspec import KernelSpecManager

    specs = KernelSpecManager().find_kernel_specs()
    assert "python3" in specs, "no python3 Jupyter kernel: pip install ipykernel"
    return "python3"


def test_saved_notebook_has_outputs_and_no_errors():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(cell.execution_count for cell in code), "save the notebook executed, with its outputs"
    assert not [o for cell in code for o in cell.outputs if o.output_type == "error"]
    images = [o for cell in code for o in cell.outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 4  # corpus bars, confusion matrix, feature bars, reliability plot


def test_notebook_runs_top_to_bottom(tmp_path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    started = time.perf_counter()
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name=_kernel_name(),
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()  # raises CellExecutionError on the first cell that fails
    seconds = time.perf_counter() - started
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "Held-out test split" in text and "mistakes out of" in text
    assert seconds < 180, f"the notebook took {seconds:.0f}s; it should run in about a minute"
