"""``%codeact undo``: the cells the last run inserted go, in one action; its variables are listed.

Only cells the run inserted (marked ``metadata.codeact.run_id``) are removed, by the JupyterLab
extension that wrote them; the user's cells, the ``%%codeact`` cell among them, stay. What the
steps did to the kernel is not undone (no kernel can take back a write to a file or a sent
request): the variables the run created or rebound are listed, to delete or recompute.
"""

from __future__ import annotations

from typing import Any


def _variables(run: Any) -> str:
    if not (run.created or run.changed):
        return "It left no new or rebound variables."
    lines = ["What the steps did in the kernel stays (undo removes cells, not kernel state):"]
    if run.created:
        lines.append(f"  created: {', '.join(run.created)}   (del {', '.join(run.created)} removes them)")
    if run.changed:
        lines.append(f"  rebound: {', '.join(run.changed)}   (run the cells that set them to get yours back)")
    return "\n".join(lines)


async def undo_last_run() -> None:
    from IPython import get_ipython

    from .api import last_run
    from .frontends.lab_link import request_removal

    run = last_run()
    if run is None:
        print("No %%codeact run in this kernel to undo.")
        return
    if run.status is None:
        print("The last run is still going: stop it first.")
        return
    removed = await request_removal(get_ipython(), run.id)
    if removed is None:
        print("No cells to remove: without the JupyterLab extension a run's steps are in its "
              "%%codeact cell's output (clear that output to remove them).")
    else:
        print(f"Removed the {removed} cell{'s' if removed != 1 else ''} the last run inserted "
              f"({run.request.splitlines()[0][:60]!r}); its %%codeact cell stays.")
    print(_variables(run))
