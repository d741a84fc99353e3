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

export class Transcript {
  constructor(
    private panel: NotebookPanel,
    private hello: IHello
  ) {}

  private stepCells = new Map<number, string>();
  private lastId: string | null = null;

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

  /** Below the magic cell, after this run's cells so far; at the end if both are gone. */
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
    while (i < cells.length && codeactMetadata(cells.get(i))?.run_id === this.hello.run_id) {
      i++;
    }
    return i;
  }

  private insert(cell: nbformat.ICell): ICellModel {
    const index = this.insertionIndex();
    this.panel.content.model!.sharedModel.insertCell(index, cell as any);
    const model = this.cells().get(index);
    this.lastId = model.id;
    markGenerated(this.panel);
    // The cell's widget may only be created on the next frame (windowed notebooks).
    requestAnimationFrame(() => markGenerated(this.panel));
    return model;
  }

  private stepCell(index: number): ICodeCellModel | null {
    const i = this.indexOf(this.stepCells.get(index) ?? null);
    return i >= 0 ? (this.cells().get(i) as ICodeCellModel) : null;
  }

  private meta(step: number | 'answer', status: ICodeactMetadata['status'], usage?: unknown): ICodeactMetadata {
    return { run_id: this.hello.run_id, step, model: this.hello.model, status, usage };
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
    if (output.output_type === 'clear_output') {
      cell.outputs.clear((output as { wait: boolean }).wait);
    } else if (output.output_type === 'update_display_data') {
      const id = (output as any).transient?.display_id;
      for (let i = 0; i < cell.outputs.length; i++) {
        const existing = cell.outputs.get(i);
        if (id && (existing.toJSON() as any).transient?.display_id === id) {
          cell.outputs.set(i, { ...(output as any), output_type: 'display_data' });
        }
      }
    } else {
      cell.outputs.add(output as nbformat.IOutput);
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
        source: msg.answer,
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
