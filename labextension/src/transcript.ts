/**
 * Writing a run into the notebook: each step becomes a real code cell (inserted before it runs,
 * filled with its outputs live, ending with its execution count) and the answer a Markdown cell.
 *
 * Cells are found again by id before every change, so the user may scroll, edit or add cells
 * elsewhere meanwhile. Only cells this run inserted are ever changed.
 */
import type { ICodeCellModel, ICellModel } from '@jupyterlab/cells';
import type * as nbformat from '@jupyterlab/nbformat';
import type { NotebookPanel } from '@jupyterlab/notebook';

import type { IFinal, IHello, IStepDone, IStepStarted, StepOutput } from './protocol';

export const GENERATED_TAG = 'codeact-generated';
export const GENERATED_CLASS = 'jp-codeact-generated';

export interface ICodeactMetadata {
  run_id: string;
  step: number | 'answer';
  model: string;
  /** The id of the %%codeact cell whose run wrote this cell. */
  magic_cell?: string | null;
  status: 'running' | 'done' | 'error' | 'timeout' | 'interrupted';
  usage?: unknown;
}

export function codeactMetadata(cell: ICellModel): ICodeactMetadata | undefined {
  return cell.getMetadata('codeact') as ICodeactMetadata | undefined;
}

/** Mark generated cells visibly (also those of a notebook saved earlier). */
export function markGenerated(panel: NotebookPanel): void {
  for (const widget of panel.content.widgets) {
    widget.toggleClass(GENERATED_CLASS, codeactMetadata(widget.model) !== undefined);
  }
}

/**
 * Remove the cells run `runId` inserted (never one without its `codeact` metadata: the user's
 * cells, the %%codeact cell among them, stay). Returns how many were removed.
 */
export function removeRun(panel: NotebookPanel, runId: string): number {
  const shared = panel.content.model!.sharedModel;
  const cells = panel.content.model!.cells;
  let removed = 0;
  shared.transact(() => {
    for (let i = cells.length - 1; i >= 0; i--) {
      if (codeactMetadata(cells.get(i))?.run_id === runId) {
        shared.deleteCell(i);
        removed++;
      }
    }
  });
  return removed;
}

/** The run whose cells come last in the notebook: what "undo the last run" means after a reload. */
export function lastRunId(panel: NotebookPanel): string | null {
  const cells = panel.content.model!.cells;
  for (let i = cells.length - 1; i >= 0; i--) {
    const meta = codeactMetadata(cells.get(i));
    if (meta) {
      return meta.run_id;
    }
  }
  return null;
}

export class Transcript {
  constructor(
    private panel: NotebookPanel,
    private hello: IHello
  ) {}

  private stepCells = new Map<number, string>();
  private lastId: string | null = null;
  // Display ids shown in this run's step cells, and where: an update_display_data finds them here
  // (JupyterLab's output model keeps no `transient`, so the stored outputs cannot tell).
  private displays = new Map<string, { cellId: string; output: number }[]>();

  private cells() {
    return this.panel.content.model!.cells;
  }

  private indexOf(id: string | null): number {
    if (!id) {
      return -1;
    }
    const cells = this.cells();
    for (let i = 0; i < cells.length; i++) {
      if (cells.get(i).id === id) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Below the magic cell, after this run's cells so far; at the end if both are gone. A cell run
   * again writes its new transcript after the one its earlier runs wrote, never above it.
   */
  private insertionIndex(): number {
    const last = this.indexOf(this.lastId);
    if (last >= 0) {
      return last + 1;
    }
    const magic = this.indexOf(this.hello.cell_id);
    if (magic < 0) {
      return this.cells().length;
    }
    let i = magic + 1;
    const cells = this.cells();
    while (i < cells.length && this.belongsHere(codeactMetadata(cells.get(i)))) {
      i++;
    }
    return i;
  }

  /** A generated cell of this magic cell's runs (cells saved before `magic_cell` was recorded
   * count when they follow it directly). */
  private belongsHere(meta: ICodeactMetadata | undefined): boolean {
    if (!meta) {
      return false;
    }
    return meta.magic_cell === undefined || meta.magic_cell === this.hello.cell_id;
  }

  private insert(cell: nbformat.ICell): ICellModel {
    const index = this.insertionIndex();
    this.panel.content.model!.sharedModel.insertCell(index, cell as any);
    const model = this.cells().get(index);
    // The kernel ran this code for the user: its outputs (widgets, plots, HTML) are trusted, as
    // those of a cell the user ran.
    model.trusted = true;
    this.lastId = model.id;
    markGenerated(this.panel);
    // The cell's widget may only be created on the next frame (windowed notebooks).
    requestAnimationFrame(() => markGenerated(this.panel));
    return model;
  }

  private stepCell(index: number): ICodeCellModel | null {
    return this.cellById(this.stepCells.get(index) ?? null);
  }

  private cellById(id: string | null): ICodeCellModel | null {
    const i = this.indexOf(id);
    return i >= 0 ? (this.cells().get(i) as ICodeCellModel) : null;
  }

  private forgetDisplays(cellId: string): void {
    for (const [id, places] of this.displays) {
      this.displays.set(id, places.filter(place => place.cellId !== cellId));
    }
  }

  private meta(step: number | 'answer', status: ICodeactMetadata['status'], usage?: unknown): ICodeactMetadata {
    return {
      run_id: this.hello.run_id,
      step,
      model: this.hello.model,
      magic_cell: this.hello.cell_id,
      status,
      usage
    };
  }

  /** Returns the inserted cell's index. */
  stepStarted(msg: IStepStarted): number {
    const model = this.insert({
      cell_type: 'code',
      source: msg.code.replace(/\n$/, ''),
      metadata: { codeact: this.meta(msg.index, 'running') as any, tags: [GENERATED_TAG] },
      outputs: [],
      execution_count: null
    } as nbformat.ICodeCell) as ICodeCellModel;
    model.executionState = 'running';
    this.stepCells.set(msg.index, model.id);
    return this.indexOf(model.id);
  }

  output(index: number, output: StepOutput): void {
    const cell = this.stepCell(index);
    if (!cell) {
      return; // the user deleted it meanwhile: their choice
    }
    const displayId: string | undefined = (output as any).transient?.display_id;
    if (output.output_type === 'clear_output') {
      cell.outputs.clear((output as { wait: boolean }).wait);
      this.forgetDisplays(cell.id);
    } else if (output.output_type === 'update_display_data') {
      // Wherever that display is shown in this run's cells (an earlier step's cell included).
      const { transient, ...rest } = output as any;
      for (const place of this.displays.get(displayId ?? '') ?? []) {
        const target = this.cellById(place.cellId);
        if (target && place.output < target.outputs.length) {
          target.outputs.set(place.output, { ...rest, output_type: 'display_data' });
        }
      }
    } else {
      const { transient, ...rest } = output as any;
      if (output.output_type === 'stream') {
        cell.outputs.add(output as nbformat.IOutput);
      } else {
        const at = cell.outputs.add(rest as nbformat.IOutput) - 1; // add() returns the new length
        if (displayId) {
          const places = this.displays.get(displayId) ?? [];
          places.push({ cellId: cell.id, output: at });
          this.displays.set(displayId, places);
        }
      }
    }
  }

  stepDone(msg: IStepDone): void {
    const cell = this.stepCell(msg.index);
    if (!cell) {
      return;
    }
    cell.executionCount = msg.execution_count;
    cell.executionState = 'idle';
    const status = msg.status === 'ok' ? 'done' : msg.status;
    cell.setMetadata('codeact', { ...this.meta(msg.index, status, msg.usage) });
  }

  final(msg: IFinal): void {
    if (msg.answer) {
      this.insert({
        cell_type: 'markdown',
        source: msg.answer_markdown ?? msg.answer,
        metadata: { codeact: this.meta('answer', 'done', msg.usage) as any, tags: [GENERATED_TAG] }
      } as nbformat.IMarkdownCell);
    }
    // A step cell still "running" here was cut by the interrupt.
    for (const index of this.stepCells.keys()) {
      const cell = this.stepCell(index);
      if (cell && cell.executionState === 'running') {
        cell.executionState = 'idle';
        cell.setMetadata('codeact', { ...this.meta(index, 'interrupted') });
      }
    }
  }
}
