/**
 * The chat side panel, bound to the active notebook. Send inserts a `%%codeact` cell holding the
 * request at the end of the notebook and runs it (one Python code path for both entry points);
 * the run's messages, relayed by the plugin, fill the conversation.
 */
import { NotebookActions, type NotebookPanel } from '@jupyterlab/notebook';
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { Widget } from '@lumino/widgets';

import type { Decision, IFinal, IHello, IPending, IStepDone, IStepStarted } from './protocol';
import { codeactMetadata, lastRunId, removeRun } from './transcript';

export interface IPanelSettings {
  model: string;
  apiBase: string;
  maxSteps: number;
  models: string[];
  mode: string;
}

type Entry =
  | { kind: 'request'; text: string }
  | { kind: 'reply'; text: string }
  | {
      kind: 'step';
      index: number;
      code: string;
      status: string;
      count: number | null;
      runId: string;
      latencyMs?: number;
    }
  | {
      kind: 'final';
      status: string;
      answer: string | null;
      note: string | null;
      summary: string;
      variables: string;
    }
  | { kind: 'note'; text: string }
  | { kind: 'error'; text: string }
  | {
      kind: 'ask';
      ask: 'approve' | 'continue';
      index: number;
      code: string;
      answer: (decision: Decision) => void;
    };

/** The environment variable litellm reads for a provider's key, for the hint under the input. */
export function keyVariable(model: string): string | null {
  const provider = model.includes('/') ? model.split('/')[0] : model.startsWith('gpt') ? 'openai' : '';
  const known: Record<string, string> = {
    openai: 'OPENAI_API_KEY',
    anthropic: 'ANTHROPIC_API_KEY',
    gemini: 'GEMINI_API_KEY',
    mistral: 'MISTRAL_API_KEY',
    groq: 'GROQ_API_KEY',
    deepseek: 'DEEPSEEK_API_KEY',
    openrouter: 'OPENROUTER_API_KEY',
    azure: 'AZURE_API_KEY',
    cohere: 'COHERE_API_KEY',
    xai: 'XAI_API_KEY',
    together_ai: 'TOGETHERAI_API_KEY'
  };
  return known[provider] ?? null;
}

/** "Variables: new total, city · changed sales", or "" when the run left none. */
export function variablesLine(created: string[], changed: string[]): string {
  const parts = [
    ...(created.length ? [`new ${created.join(', ')}`] : []),
    ...(changed.length ? [`changed ${changed.join(', ')}`] : [])
  ];
  return parts.length ? `Variables: ${parts.join(' · ')}` : '';
}

/**
 * The conversation as the notebook's cells hold it: each `%%codeact` cell's request, the steps its
 * run inserted, and the answer cell. What the panel shows after a page reload.
 */
function conversationOf(panel: NotebookPanel): Entry[] {
  const entries: Entry[] = [];
  const cells = panel.content.model?.cells;
  if (!cells) {
    return entries;
  }
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    const meta = codeactMetadata(cell);
    const source = cell.sharedModel.getSource();
    if (!meta && cell.type === 'code') {
      const lines = source.split('\n');
      const first = lines.findIndex(line => line.trim() && !line.trim().startsWith('#'));
      if (first >= 0 && /^%%codeact(\s|$)/.test(lines[first].trim())) {
        entries.push({ kind: 'request', text: lines.slice(first + 1).join('\n').trim() });
      }
    } else if (meta && meta.step === 'answer') {
      entries.push({ kind: 'final', status: 'answered', answer: source, note: null, summary: '', variables: '' });
    } else if (meta) {
      const count = (cell as any).executionCount ?? null;
      entries.push({ kind: 'step', index: meta.step as number, code: source, status: meta.status, count, runId: meta.run_id });
    }
  }
  return entries;
}

export class CodeactPanel extends Widget {
  constructor(private rendermime: IRenderMimeRegistry) {
    super();
    this.id = 'codeact-panel';
    this.title.caption = 'CodeAct';
    this.title.label = 'CodeAct';
    this.addClass('jp-codeact-panel');
    this.node.innerHTML = `
      <div class="jp-codeact-header">
        <div class="jp-codeact-title">CodeAct</div>
        <div class="jp-codeact-target"></div>
        <select class="jp-codeact-model jp-mod-styled" title="The model of the next request" hidden></select>
      </div>
      <div class="jp-codeact-log" role="log" aria-live="polite"></div>
      <div class="jp-codeact-input">
        <textarea rows="3" placeholder="Ask for something to compute, in plain words. Enter sends, Shift+Enter for a new line."></textarea>
        <div class="jp-codeact-buttons">
          <span class="jp-codeact-hint"></span>
          <button class="jp-codeact-new jp-mod-styled"
            title="Start a new conversation: the next request does not go on from the earlier ones">New chat</button>
          <button class="jp-codeact-undo jp-mod-styled" disabled
            title="Remove the cells the last run inserted (your cells stay; its variables stay in the kernel)">Undo</button>
          <button class="jp-codeact-stop jp-mod-styled jp-mod-warn" disabled>Stop</button>
          <button class="jp-codeact-send jp-mod-styled jp-mod-accept">Send</button>
        </div>
      </div>`;
    this.textarea.addEventListener('keydown', event => {
      if (event.key === 'Enter' && !event.shiftKey) {
        event.preventDefault();
        void this.send();
      }
    });
    this.sendButton.addEventListener('click', () => void this.send());
    this.stopButton.addEventListener('click', () => void this.stop());
    this.undoButton.addEventListener('click', () => this.undo());
    this.newButton.addEventListener('click', () => this.newChat());
    this.picker.addEventListener('change', () => {
      this.picked = this.picker.value;
      this.render();
    });
    this.update();
  }

  private notebook: NotebookPanel | null = null;
  private logs = new WeakMap<NotebookPanel, Entry[]>();
  private running = new WeakMap<NotebookPanel, boolean>();
  // Notebooks whose next request starts a new conversation (New chat was pressed).
  private fresh = new WeakSet<NotebookPanel>();
  private settings: IPanelSettings = { model: '', apiBase: '', maxSteps: 0, models: [], mode: '' };
  // The model picked in the panel's picker ('' : the settings' model).
  private picked = '';

  private get textarea(): HTMLTextAreaElement {
    return this.node.querySelector('textarea')!;
  }
  private get sendButton(): HTMLButtonElement {
    return this.node.querySelector('.jp-codeact-send')!;
  }
  private get stopButton(): HTMLButtonElement {
    return this.node.querySelector('.jp-codeact-stop')!;
  }
  private get undoButton(): HTMLButtonElement {
    return this.node.querySelector('.jp-codeact-undo')!;
  }
  private get picker(): HTMLSelectElement {
    return this.node.querySelector('.jp-codeact-model')!;
  }
  private get newButton(): HTMLButtonElement {
    return this.node.querySelector('.jp-codeact-new')!;
  }

  focusInput(): void {
    this.textarea.focus();
  }

  setSettings(settings: IPanelSettings): void {
    this.settings = settings;
    // The picker: the settings' model first ('' is the kernel's default), then the others listed.
    const choices = [...new Set([settings.model, ...settings.models])];
    if (!choices.includes(this.picked)) {
      this.picked = settings.model;
    }
    this.picker.replaceChildren(
      ...choices.map(id => {
        const option = document.createElement('option');
        option.value = id;
        option.textContent = id || 'kernel default';
        return option;
      })
    );
    this.picker.value = this.picked;
    this.picker.hidden = choices.length < 2;
    this.render();
  }

  /** The model of the next request: picked in the panel, else the settings'. */
  private get model(): string {
    return this.picked;
  }

  setNotebook(panel: NotebookPanel | null): void {
    if (this.notebook) {
      this.notebook.sessionContext.kernelChanged.disconnect(this.render, this);
      this.notebook.sessionContext.statusChanged.disconnect(this.render, this);
    }
    this.notebook = panel;
    if (panel) {
      panel.sessionContext.kernelChanged.connect(this.render, this);
      panel.sessionContext.statusChanged.connect(this.render, this);
      // After a reload the conversation is read back from the notebook's cells.
      void panel.context.ready.then(() => {
        if (!this.log(panel).length) {
          this.logs.set(panel, conversationOf(panel));
          this.refresh(panel);
        }
      });
    }
    this.render();
  }

  private log(panel: NotebookPanel): Entry[] {
    let entries = this.logs.get(panel);
    if (!entries) {
      entries = [];
      this.logs.set(panel, entries);
    }
    return entries;
  }

  // ---- run messages, relayed by the plugin for the notebook they belong to ----

  runStarted(panel: NotebookPanel, hello: IHello): void {
    this.running.set(panel, true);
    const log = this.log(panel);
    // A run started by a %%codeact cell typed in the notebook shows its request too.
    if (!log.length || log[log.length - 1].kind !== 'request') {
      log.push({ kind: 'request', text: hello.request });
    }
    this.refresh(panel);
  }

  token(panel: NotebookPanel, text: string): void {
    const log = this.log(panel);
    const last = log[log.length - 1];
    if (last && last.kind === 'reply') {
      last.text += text;
    } else {
      log.push({ kind: 'reply', text });
    }
    this.refresh(panel);
  }

  /** A line of the loop's own: it waits for the model, or it sent the model a follow-up. */
  note(panel: NotebookPanel, text: string): void {
    this.log(panel).push({ kind: 'note', text });
    this.refresh(panel);
  }

  stepStarted(panel: NotebookPanel, hello: IHello, msg: IStepStarted): void {
    this.log(panel).push({ kind: 'step', index: msg.index, code: msg.code, status: 'running', count: null, runId: hello.run_id });
    this.refresh(panel);
  }

  /** The step's cell was painted ``ms`` after the kernel had its code. */
  cellShown(panel: NotebookPanel, index: number, ms: number): void {
    const entries = this.log(panel);
    for (let i = entries.length - 1; i >= 0; i--) {
      const entry = entries[i];
      if (entry.kind === 'step' && entry.index === index) {
        entry.latencyMs = ms;
        break;
      }
    }
    this.refresh(panel);
  }

  stepDone(panel: NotebookPanel, msg: IStepDone): void {
    const entry = this.log(panel).find(e => e.kind === 'step' && e.index === msg.index && e.status === 'running');
    if (entry && entry.kind === 'step') {
      entry.status = msg.status === 'ok' ? 'done' : msg.error ? `${msg.error.ename}` : msg.status;
      entry.count = msg.execution_count;
    }
    this.refresh(panel);
  }

  final(panel: NotebookPanel, msg: IFinal): void {
    this.running.set(panel, false);
    const log = this.log(panel);
    const last = log[log.length - 1];
    if (msg.answer && last?.kind === 'reply' && last.text.trim() === msg.answer.trim()) {
      log.pop(); // the streamed answer is shown once more, rendered
    }
    log.push({
      kind: 'final',
      status: msg.status,
      answer: msg.answer_markdown ?? msg.answer,
      note: msg.note,
      summary: msg.summary,
      variables: variablesLine(msg.created ?? [], msg.changed ?? [])
    });
    this.refresh(panel);
  }

  runEnded(panel: NotebookPanel): void {
    this.running.set(panel, false);
    this.dropAsk(panel);
    this.refresh(panel);
  }

  /** The run waits for the user (confirm or step mode), or no longer does. */
  pending(panel: NotebookPanel, msg: IPending, answer: (decision: Decision) => void): void {
    this.dropAsk(panel);
    if (msg.kind) {
      this.log(panel).push({ kind: 'ask', ask: msg.kind, index: msg.index ?? 0, code: msg.code ?? '', answer });
    }
    this.refresh(panel);
  }

  private dropAsk(panel: NotebookPanel): void {
    const log = this.log(panel);
    const at = log.findIndex(entry => entry.kind === 'ask');
    if (at >= 0) {
      log.splice(at, 1);
    }
  }

  // ---- actions ----

  /** The next request starts a new conversation; the panel shows it from here. */
  newChat(): void {
    const panel = this.notebook;
    if (!panel || this.running.get(panel)) {
      return;
    }
    this.fresh.add(panel);
    this.logs.set(panel, [
      { kind: 'note', text: 'New conversation: the next request does not go on from the earlier ones (the kernel keeps its variables).' }
    ]);
    this.refresh(panel);
  }

  private magicLine(panel: NotebookPanel): string {
    const parts = ['%%codeact'];
    if (this.fresh.has(panel)) {
      parts.push('--new');
      this.fresh.delete(panel);
    }
    if (this.model) {
      parts.push('--model', this.model);
    }
    if (this.settings.mode && this.settings.mode !== 'auto') {
      parts.push('--mode', this.settings.mode);
    }
    if (this.settings.apiBase) {
      parts.push('--api-base', this.settings.apiBase);
    }
    if (this.settings.maxSteps > 0) {
      parts.push('--max-steps', String(this.settings.maxSteps));
    }
    return parts.join(' ');
  }

  async send(): Promise<void> {
    const panel = this.notebook;
    const text = this.textarea.value.trim();
    if (!panel || !text) {
      return;
    }
    // A notebook just opened may still be starting its kernel: wait for it rather than refuse.
    await panel.sessionContext.ready;
    const kernel = panel.sessionContext.session?.kernel;
    if (!kernel) {
      this.log(panel).push({ kind: 'error', text: 'This notebook has no running kernel: start one first.' });
      this.refresh(panel);
      return;
    }
    this.textarea.value = '';
    this.log(panel).push({ kind: 'request', text });
    this.running.set(panel, true);
    this.refresh(panel);
    // Load the magic quietly (a no-op when already loaded): the transcript shows only the request.
    kernel.requestExecute({ code: '%load_ext codeact_magic', silent: true, store_history: false });
    const model = panel.content.model!;
    const index = model.cells.length;
    model.sharedModel.insertCell(index, { cell_type: 'code', source: `${this.magicLine(panel)}\n${text}` } as any);
    panel.content.activeCellIndex = index;
    panel.content.deselectAll();
    // Runs the cell; not awaited here, the run reports over the comm.
    void NotebookActions.run(panel.content, panel.sessionContext).then(() => {
      this.running.set(panel, false);
      this.refresh(panel);
    });
  }

  /** Remove the cells of the run whose cells come last in the notebook, and say what it left. */
  undo(): void {
    const panel = this.notebook;
    const runId = panel ? lastRunId(panel) : null;
    if (!panel || !runId || this.running.get(panel)) {
      return;
    }
    const log = this.log(panel);
    const final = [...log].reverse().find(entry => entry.kind === 'final');
    this.undone(panel, removeRun(panel, runId), final?.kind === 'final' ? final.variables : '');
  }

  /** Cells of a run were removed (from here, or by `%codeact undo` in the kernel). */
  undone(panel: NotebookPanel, removed: number, variables = ''): void {
    const stays = variables ? ` ${variables} (they stay in the kernel).` : '';
    this.log(panel).push({
      kind: 'note',
      text: `Undone: removed the ${removed} cell${removed === 1 ? '' : 's'} the run inserted.${stays}`
    });
    this.refresh(panel);
  }

  async stop(): Promise<void> {
    const kernel = this.notebook?.sessionContext.session?.kernel;
    if (kernel) {
      // The kernel's interrupt ends the run at once: during the model's reply or a running step.
      await kernel.interrupt();
    }
  }

  // ---- rendering ----

  private refresh(panel: NotebookPanel): void {
    // At most one render a frame: a reply streams in many small pieces, and the page must stay
    // free to insert the run's cells as they come.
    if (panel === this.notebook && this.frame === null) {
      this.frame = requestAnimationFrame(() => {
        this.frame = null;
        this.render();
      });
    }
  }

  private frame: number | null = null;
  // Rendered Markdown answers are kept: rendering them again on every update would be wasted work.
  private finals = new WeakMap<Entry, HTMLElement>();

  private render(): void {
    const target = this.node.querySelector('.jp-codeact-target')!;
    const hint = this.node.querySelector('.jp-codeact-hint')!;
    const log = this.node.querySelector('.jp-codeact-log')!;
    const panel = this.notebook;
    const model = this.model || 'the kernel\'s default (%config CodeAct.model, CODEACT_MODEL, or the embedded model)';
    const variable = keyVariable(this.model);
    hint.textContent = variable ? `key from ${variable} in the kernel's environment` : '';
    if (!panel) {
      target.textContent = 'No notebook is open: open one to work in it.';
      this.sendButton.disabled = true;
      this.stopButton.disabled = true;
      log.replaceChildren();
      return;
    }
    const kernel = panel.sessionContext.session?.kernel;
    target.textContent = kernel
      ? `${panel.title.label} · ${panel.sessionContext.kernelDisplayName} · model: ${model}`
      : `${panel.title.label} · no kernel: start one to run requests`;
    const running = this.running.get(panel) ?? false;
    this.sendButton.disabled = !kernel;
    this.stopButton.disabled = !running;
    this.undoButton.disabled = running || lastRunId(panel) === null;
    this.newButton.disabled = running;
    log.replaceChildren(...this.log(panel).map(entry => this.renderEntry(panel, entry)));
    log.scrollTop = log.scrollHeight;
  }

  private renderEntry(panel: NotebookPanel, entry: Entry): HTMLElement {
    const kept = this.finals.get(entry);
    if (kept) {
      return kept;
    }
    const node = document.createElement('div');
    node.className = `jp-codeact-entry jp-codeact-${entry.kind}`;
    switch (entry.kind) {
      case 'request':
        node.textContent = entry.text;
        break;
      case 'reply': {
        const log = this.log(panel);
        const streaming = entry === log[log.length - 1] && (this.running.get(panel) ?? false);
        if (streaming) {
          // Plain text while it streams: Markdown rendered on every piece would be wasted work.
          node.textContent = entry.text;
          break;
        }
        // A finished turn: Markdown with highlighted code, each block with a Copy button.
        node.classList.add('jp-mod-rendered');
        this.renderMarkdown(node, entry.text, true);
        this.finals.set(entry, node);
        break;
      }
      case 'error':
      case 'note':
        node.textContent = entry.text;
        break;
      case 'step': {
        const mark = entry.status === 'running' ? '…' : entry.status === 'done' ? '✓' : '✗';
        const count = entry.count !== null ? ` · In [${entry.count}]` : '';
        node.textContent = `${mark} step ${entry.index}${count} · ${entry.status === 'done' ? entry.code.split('\n')[0] : entry.status}`;
        node.title = 'Show this step in the notebook';
        if (entry.latencyMs !== undefined) {
          node.dataset.latencyMs = String(Math.round(entry.latencyMs));
          node.title += ` (its cell appeared ${Math.round(entry.latencyMs)} ms after the code was ready)`;
        }
        node.tabIndex = 0;
        node.addEventListener('click', () => void this.scrollToStep(panel, entry.runId, entry.index));
        break;
      }
      case 'ask':
        this.renderAsk(node, entry);
        this.finals.set(entry, node); // kept across renders: an edit in progress stays
        break;
      case 'final': {
        if (entry.answer) {
          const body = document.createElement('div');
          this.renderMarkdown(body, entry.answer, true);
          node.appendChild(body);
        }
        if (entry.note) {
          const note = document.createElement('div');
          note.className = entry.status === 'error' ? 'jp-codeact-note jp-mod-error' : 'jp-codeact-note';
          note.textContent = entry.note;
          node.appendChild(note);
        }
        if (entry.variables) {
          const variables = document.createElement('div');
          variables.className = 'jp-codeact-summary';
          variables.textContent = entry.variables;
          node.appendChild(variables);
        }
        if (entry.summary) {
          const summary = document.createElement('div');
          summary.className = 'jp-codeact-summary';
          summary.textContent = entry.summary;
          node.appendChild(summary);
        }
        this.finals.set(entry, node);
        break;
      }
    }
    return node;
  }

  /** Run, Edit, Skip and Stop for a step to approve; Continue and Stop after a step. */
  private renderAsk(node: HTMLElement, entry: Extract<Entry, { kind: 'ask' }>): void {
    const button = (label: string, cls: string, decide: () => void) => {
      const b = document.createElement('button');
      b.className = `jp-mod-styled ${cls}`;
      b.textContent = label;
      b.addEventListener('click', () => {
        node.querySelectorAll('button').forEach(other => ((other as HTMLButtonElement).disabled = true));
        decide();
      });
      return b;
    };
    const question = document.createElement('div');
    question.className = 'jp-codeact-ask-title';
    const buttons = document.createElement('div');
    buttons.className = 'jp-codeact-ask-buttons';
    if (entry.ask === 'approve') {
      question.textContent = `Step ${entry.index} wants to run:`;
      const view = document.createElement('div');
      this.renderMarkdown(view, '```python\n' + entry.code.replace(/\n$/, '') + '\n```', false);
      const editor = document.createElement('textarea');
      editor.className = 'jp-codeact-ask-editor';
      editor.value = entry.code;
      editor.spellcheck = false;
      editor.hidden = true;
      editor.rows = Math.min(16, entry.code.split('\n').length + 1);
      const edit = button('Edit', 'jp-codeact-ask-edit', () => undefined);
      edit.addEventListener('click', () => {
        view.hidden = true;
        editor.hidden = false;
        editor.focus();
        node.querySelectorAll('button').forEach(other => ((other as HTMLButtonElement).disabled = false));
        edit.disabled = true;
      });
      buttons.append(
        button('Run', 'jp-mod-accept jp-codeact-ask-run', () => entry.answer({ type: 'run', code: editor.value })),
        edit,
        button('Skip', 'jp-codeact-ask-skip', () => entry.answer({ type: 'skip' })),
        button('Stop', 'jp-mod-warn jp-codeact-ask-stop', () => entry.answer({ type: 'stop' }))
      );
      node.append(question, view, editor, buttons);
    } else {
      question.textContent = `Step ${entry.index} is done. Go on when you are ready.`;
      buttons.append(
        button('Continue', 'jp-mod-accept jp-codeact-ask-continue', () => entry.answer({ type: 'continue' })),
        button('Stop', 'jp-mod-warn jp-codeact-ask-stop', () => entry.answer({ type: 'stop' }))
      );
      node.append(question, buttons);
    }
  }

  /** Markdown rendered as the notebook renders it (code highlighted); ``copy``: a Copy button on
   * each code block. */
  private renderMarkdown(node: HTMLElement, markdown: string, copy: boolean): void {
    const renderer = this.rendermime.createRenderer('text/markdown');
    node.appendChild(renderer.node);
    void renderer.renderModel(this.rendermime.createModel({ data: { 'text/markdown': markdown } })).then(() => {
      if (!copy) {
        return;
      }
      for (const pre of Array.from(renderer.node.querySelectorAll('pre'))) {
        const button = document.createElement('button');
        button.className = 'jp-codeact-copy jp-mod-styled';
        button.textContent = 'Copy';
        button.title = 'Copy this code';
        button.addEventListener('click', () => {
          void navigator.clipboard?.writeText(pre.textContent ?? '');
          button.textContent = 'Copied';
        });
        // On a line of its own above the block: beside it, it takes the narrow panel's width.
        const holder = document.createElement('div');
        holder.className = 'jp-codeact-code';
        pre.replaceWith(holder);
        holder.append(button, pre);
      }
    });
  }

  private async scrollToStep(panel: NotebookPanel, runId: string, index: number): Promise<void> {
    const notebook = panel.content;
    const cells = notebook.model!.cells;
    for (let i = 0; i < cells.length; i++) {
      const meta = cells.get(i).getMetadata('codeact') as { run_id?: string; step?: number } | undefined;
      if (meta?.run_id === runId && meta.step === index) {
        notebook.activeCellIndex = i;
        await notebook.scrollToCell(notebook.widgets[i], 'center');
        return;
      }
    }
  }
}
