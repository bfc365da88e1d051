"""Run each tutorial ONCE per test session and share what the run saw.

``tests/test_tutorials.py`` holds every test on these runs (it runs without error and writes no
file; it executes as a notebook with inline figures; its figures carry labels, colour keys,
legends, quiver sizes), all asserting on the same execution, cached here per tutorial for the
whole pytest process (:func:`run`).

How a tutorial runs:

* **as a notebook** (jupytext → nbformat → nbclient, kernel ``python3``), when jupytext,
  nbclient and ipykernel are installed: ``MINADV_QUICK=1``, this checkout first on
  ``PYTHONPATH``, no ``MPLBACKEND`` (ipykernel's inline backend draws the figures as
  ``image/png`` outputs, as in Jupyter), in an empty temporary folder.  A first cell,
  :data:`RECORDER`, turns every warning into an error (what ``python -W error`` does for a
  script: an overflow is a bug) and records the properties of every figure before it is shown:
  ``plt.show`` is wrapped, and a ``post_execute`` hook placed before the inline backend's own
  records the figures a cell leaves open.  A last cell prints the record as JSON.
* **as a script** otherwise (``python -W error``, ``MPLBACKEND=Agg``, quick mode) under the same
  recorder, ``plt.show`` replaced; the record is written to a file outside the run folder.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

ROOT = pathlib.Path(__file__).resolve().parent.parent
TUTORIALS = sorted((ROOT / "tutorials").glob("[0-9]*.py"))
TIMEOUT = 900

RECORDER = r'''
import json as _mx_json
import warnings as _mx_warnings

_MX_SAVED_FILTERS = list(_mx_warnings.filters)  # restored by the last cell (kernel shutdown)
_mx_warnings.simplefilter("error")               # like `python -W error`: a warning is a bug
import matplotlib.pyplot as _mx_plt
from matplotlib.colors import to_hex as _mx_to_hex

_MX_FIGURES = []


def _mx_mappable(m):
    cmap = m.get_cmap()
    colours = {_mx_to_hex(c) for c in cmap([i / max(cmap.N - 1, 1) for i in range(cmap.N)])}
    return {"kind": type(m).__name__, "cmap": cmap.name, "n_colours": len(colours),
            "vmin": None if m.norm.vmin is None else float(m.norm.vmin),
            "vmax": None if m.norm.vmax is None else float(m.norm.vmax),
            "colorbar": m.colorbar is not None,
            "labelled": bool(getattr(m, "labelTexts", None))}


def _mx_label(ax, which):
    """The axis label, or that of an axes sharing this axis (a shared axis is labelled once)."""
    get = "get_xlabel" if which == "x" else "get_ylabel"
    shared = ax.get_shared_x_axes() if which == "x" else ax.get_shared_y_axes()
    return next((getattr(a, get)() for a in [ax, *shared.get_siblings(ax)]
                 if getattr(a, get)()), "")


def _mx_axes(ax, keys):
    mapped = [a for a in list(ax.collections) + list(ax.images)
              if a.get_array() is not None and getattr(a, "get_cmap", None) is not None
              and type(a).__name__ in ("QuadContourSet", "ContourSet", "AxesImage",
                                       "QuadMesh", "PathCollection")
              and not (type(a).__name__ == "QuadContourSet" and not a.filled)]
    maps = [_mx_mappable(im) for im in ax.images]
    quivers = []
    for c in ax.collections:
        if type(c).__name__ == "Quiver":
            quivers.append({"scale": c.scale, "width": c.width, "n": int(len(c.U))})
        elif c.get_array() is not None:
            maps.append(_mx_mappable(c))
    legend = ax.get_legend()
    return {
        # what the figure tests of tutorials 00-04 and 10 read
        "is_colorbar": hasattr(ax, "_colorbar") or ax.get_label() == "<colorbar>",
        "own_xlabel": ax.get_xlabel(), "own_ylabel": ax.get_ylabel(),
        "center_title": ax.get_title(),
        "n_mapped": len(mapped),
        "n_mapped_with_bar": sum((a.get_cmap().name, tuple(a.get_clim())) in keys
                                 for a in mapped),
        "legend_loc": None if legend is None else legend._loc,
        "visible": ax.get_visible() and ax.axison,
        # what the figure tests of tutorials 05-09 read
        "colorbar": hasattr(ax, "_colorbar"),
        "xlabel": _mx_label(ax, "x"), "ylabel": _mx_label(ax, "y"),
        "title": " ".join(ax.get_title(loc) for loc in ("left", "center", "right")).strip(),
        "ticks": bool(len(ax.get_xticks()) and len(ax.get_yticks()) and ax.axison),
        "has_data": bool(ax.lines or ax.collections or ax.images),
        "legend": legend is not None,
        "labelled_series": [a.get_label() for a in list(ax.lines) + list(ax.collections)
                            if not a.get_label().startswith("_")],
        "line_colours": [_mx_to_hex(line.get_color()) for line in ax.lines],
        "mappables": maps, "quivers": quivers,
    }


def _mx_describe(fig):
    # a colour bar keys every artist with its colour map and limits (one bar may serve panels)
    keys = set()
    for ax in fig.axes:
        for artist in list(ax.collections) + list(ax.images):
            if getattr(artist, "colorbar", None) is not None:
                keys.add((artist.get_cmap().name, tuple(artist.get_clim())))
    return {"suptitle": fig._suptitle.get_text() if fig._suptitle is not None else "",
            "legend_texts": [t.get_text() for leg in fig.legends for t in leg.get_texts()],
            "axes": [_mx_axes(ax, keys) for ax in fig.axes]}


def _mx_record_open():
    for num in _mx_plt.get_fignums():
        _MX_FIGURES.append(_mx_describe(_mx_plt.figure(num)))


_mx_original_show = _mx_plt.show


def _mx_show(*args, **kwargs):
    _mx_record_open()
    if _MX_INLINE:
        _mx_original_show(*args, **kwargs)       # the inline backend draws the PNG output
    _mx_plt.close("all")


_mx_plt.show = _mx_show
try:
    _MX_INLINE = get_ipython() is not None       # noqa: F821 - defined in a kernel only
except NameError:
    _MX_INLINE = False
if _MX_INLINE:
    def _mx_post_execute():
        # before the inline backend's flush_figures, which shows and closes what is open
        _mx_record_open()

    get_ipython().events.callbacks["post_execute"].insert(0, _mx_post_execute)  # noqa: F821
'''

SCRIPT_DRIVER = RECORDER + r'''
import runpy, sys
runpy.run_path(sys.argv[1], run_name="__main__")
_mx_record_open()
with open(sys.argv[2], "w", encoding="utf-8") as _mx_fh:
    _mx_json.dump(_MX_FIGURES, _mx_fh)
'''

DUMP = ("_mx_warnings.filters[:] = _MX_SAVED_FILTERS\n"
        "print('MINADV-FIGURES ' + _mx_json.dumps(_MX_FIGURES))")


@dataclass
class TutorialRun:
    """What one execution of a tutorial saw."""

    path: pathlib.Path
    mode: str                           # "notebook" or "script"
    error: str | None = None            # None when every cell (every assert) ran
    figures: list = field(default_factory=list)
    png_outputs: int | None = None      # inline figures (notebook mode)
    n_code_cells: int | None = None     # of the tutorial itself (notebook mode)
    wrote: list = field(default_factory=list)
    seconds: float = 0.0


_CACHE: dict = {}


def notebook_tools() -> bool:
    """Whether jupytext, nbclient and ipykernel are importable."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None
               for m in ("jupytext", "nbclient", "nbformat", "ipykernel"))


def run(path) -> TutorialRun:
    """The (cached) run of the tutorial ``path``: a notebook run where the tools exist, else a
    script run."""
    path = pathlib.Path(path).resolve()
    if path not in _CACHE:
        folder = pathlib.Path(tempfile.mkdtemp(prefix=f"minadv-{path.stem[:2]}-"))
        run_dir = folder / "run"
        run_dir.mkdir()
        start = time.perf_counter()
        try:
            result = (_notebook(path, run_dir) if notebook_tools() else
                      _script(path, run_dir, folder / "figures.json"))
            result.wrote = sorted(p.name for p in run_dir.iterdir())
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        result.seconds = time.perf_counter() - start
        _CACHE[path] = result
    return _CACHE[path]


def _pythonpath() -> str:
    return os.pathsep.join([str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "")
                                          .split(os.pathsep) if p])


class _KernelEnvironment:
    """``MINADV_QUICK=1``, this checkout on ``PYTHONPATH``, no ``MPLBACKEND``: set while the
    kernel starts (it inherits this process's environment), restored afterwards."""

    def __enter__(self):
        self.saved = {k: os.environ.get(k) for k in ("MINADV_QUICK", "MPLBACKEND", "PYTHONPATH")}
        os.environ["MINADV_QUICK"] = "1"
        os.environ["PYTHONPATH"] = _pythonpath()
        os.environ.pop("MPLBACKEND", None)
        return self

    def __exit__(self, *exc):
        for key, value in self.saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        return False


def _notebook(path, run_dir) -> TutorialRun:
    import jupytext
    import nbclient
    import nbformat

    nb = jupytext.read(path)
    out = TutorialRun(path, "notebook",
                      n_code_cells=sum(c.cell_type == "code" for c in nb.cells))
    nb.cells.insert(0, nbformat.v4.new_code_cell(RECORDER))
    nb.cells.append(nbformat.v4.new_code_cell(DUMP))
    client = nbclient.NotebookClient(nb, timeout=TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(run_dir)}})
    with _KernelEnvironment():
        try:
            client.execute()
        except Exception as exc:  # noqa: BLE001 - a failing cell is the result, reported
            out.error = f"{type(exc).__name__}: {exc}"[-6000:]
    tutorial_cells = nb.cells[1:-1]
    out.png_outputs = sum("image/png" in o.get("data", {}) for cell in tutorial_cells
                          if cell.cell_type == "code" for o in cell.get("outputs", []))
    dumped = "".join(o.get("text", "") for o in nb.cells[-1].get("outputs", [])
                     if o.get("output_type") == "stream")
    if "MINADV-FIGURES " in dumped:
        out.figures = json.loads(dumped.split("MINADV-FIGURES ", 1)[1])
    return out


def _script(path, run_dir, record) -> TutorialRun:
    env = dict(os.environ, MPLBACKEND="Agg", MINADV_QUICK="1", PYTHONPATH=_pythonpath())
    proc = subprocess.run([sys.executable, "-W", "error", "-c", SCRIPT_DRIVER, str(path),
                           str(record)], cwd=run_dir, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT)
    out = TutorialRun(path, "script")
    if proc.returncode != 0:
        out.error = proc.stdout[-2000:] + proc.stderr[-4000:]
    elif record.exists():
        out.figures = json.loads(record.read_text(encoding="utf-8"))
    return out
