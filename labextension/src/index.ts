/**
 * codeact_magic's JupyterLab extension: a `%%codeact` run in a notebook writes each step as a real
 * cell and the answer as a Markdown cell, and a side panel offers the same as a chat.
 *
 * The kernel opens a comm per run (docs/protocol.md). Handlers never await a kernel execution:
 * that would deadlock the run they serve.
 */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker, type NotebookPanel } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import type { Kernel, KernelMessage as JKernelMessage } from '@jupyterlab/services';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { runIcon } from '@jupyterlab/ui-components';

import { CodeactPanel } from './panel';
import { COMM_TARGET, PROTOCOL_VERSION, type IHello, type IUndo, type IUndone, type KernelMessage } from './protocol';
import { markGenerated, removeRun, Transcript } from './transcript';

const PLUGIN_ID = 'codeact-magic:plugin';
// This page, among the frontends connected to a kernel (docs/protocol.md: the handshake).
const FRONTEND_ID = Math.random().toString(36).slice(2) + Date.now().toString(36);

namespace CommandIDs {
  export const open = 'codeact:open-panel';
  export const stop = 'codeact:stop';
}

function ownerOf(tracker: INotebookTracker, kernel: Kernel.IKernelConnection, cellId: string | null): NotebookPanel | null {
  if (!cellId) {
    return null;
  }
  let owner: NotebookPanel | null = null;
  tracker.forEach(panel => {
    if (owner || panel.sessionContext.session?.kernel !== kernel) {
      return;
    }
    const cells = panel.content.model?.cells;
    if (!cells) {
      return;
    }
    for (let i = 0; i < cells.length; i++) {
      if (cells.get(i).id === cellId) {
        owner = panel;
        return;
      }
    }
  });
  return owner;
}

function attach(kernel: Kernel.IKernelConnection, tracker: INotebookTracker, chat: CodeactPanel): void {
  if ((kernel as any).__codeactAttached) {
    return;
  }
  (kernel as any).__codeactAttached = true;
  kernel.registerCommTarget(COMM_TARGET, (comm: Kernel.IComm, open: JKernelMessage.ICommOpenMsg) => {
    if ((open.content.data as any).type === 'undo') {
      const undo = open.content.data as unknown as IUndo;
      const owner = ownerOf(tracker, kernel, undo.cell_id);
      if (owner && undo.version === PROTOCOL_VERSION) {
        const removed = removeRun(owner, undo.run_id);
        chat.undone(owner, removed);
        comm.send({ type: 'undone', removed } as IUndone as any);
      }
      return;
    }
    const hello = open.content.data as unknown as IHello;
    const panel = ownerOf(tracker, kernel, hello.cell_id);
    if (!panel || hello.version !== PROTOCOL_VERSION) {
      return; // not ours (another frontend, or a console): stay silent, do not close
    }
    // Every page with this notebook open hears the hello (two tabs, collaborators): each answers,
    // and the kernel says which one holds the run, so that the transcript is written once.
    comm.send({ type: 'hello_ack', version: PROTOCOL_VERSION, frontend: FRONTEND_ID });
    let holds: boolean | null = null;
    const transcript = new Transcript(panel, hello);
    comm.onMsg = (msg: JKernelMessage.ICommMsgMsg) => {
      const data = msg.content.data as unknown as KernelMessage;
      if (data.type === 'chosen') {
        holds = data.frontend === null || data.frontend === FRONTEND_ID;
        if (holds) {
          chat.runStarted(panel, hello);
        }
        return;
      }
      if (holds === null) {
        holds = true; // a kernel that names no holder: this page holds the run
        chat.runStarted(panel, hello);
      }
      if (!holds) {
        return;
      }
      switch (data.type) {
        case 'token':
          chat.token(panel, data.text);
          break;
        case 'waiting':
          chat.note(panel, data.text);
          break;
        case 'followup':
          chat.note(panel, `↻ ${data.label}`);
          break;
        case 'step_started': {
          const index = transcript.stepStarted(data);
          chat.stepStarted(panel, hello, data);
          // Painted on the next frame: that is when the user can see it.
          requestAnimationFrame(() => {
            const at = Date.now();
            chat.cellShown(panel, data.index, at - data.sent_at);
            if (!comm.isDisposed) {
              comm.send({ type: 'cell_shown', index: data.index, at, cell_index: index });
            }
          });
          break;
        }
        case 'output':
          transcript.output(data.index, data.output);
          break;
        case 'step_done':
          transcript.stepDone(data);
          chat.stepDone(panel, data);
          break;
        case 'final':
          transcript.final(data);
          chat.final(panel, data);
          break;
        case 'pending':
          chat.pending(panel, data, decision => {
            if (!comm.isDisposed) {
              comm.send(decision as any);
            }
          });
          break;
      }
    };
    comm.onClose = () => {
      if (holds) {
        chat.runEnded(panel);
      }
    };
  });
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Each %%codeact step becomes a real notebook cell; a chat panel on the active notebook.',
  autoStart: true,
  requires: [INotebookTracker, IRenderMimeRegistry],
  optional: [ISettingRegistry, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    rendermime: IRenderMimeRegistry,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null
  ) => {
    const chat = new CodeactPanel(rendermime);
    chat.title.icon = runIcon;
    app.shell.add(chat, 'right', { rank: 600 });

    tracker.widgetAdded.connect((_, panel) => {
      const connect = () => {
        const kernel = panel.sessionContext.session?.kernel;
        if (kernel) {
          attach(kernel, tracker, chat);
        }
      };
      panel.sessionContext.kernelChanged.connect(connect);
      panel.sessionContext.ready.then(connect).catch(() => undefined);
      panel.context.ready.then(() => markGenerated(panel)).catch(() => undefined);
    });
    tracker.currentChanged.connect((_, panel) => chat.setNotebook(panel));
    chat.setNotebook(tracker.currentWidget);

    app.commands.addCommand(CommandIDs.open, {
      label: 'CodeAct: Open Panel',
      execute: () => {
        app.shell.activateById(chat.id);
        chat.focusInput();
      }
    });
    app.commands.addCommand(CommandIDs.stop, {
      label: 'CodeAct: Stop the Run',
      execute: () => chat.stop()
    });
    palette?.addItem({ command: CommandIDs.open, category: 'CodeAct' });
    palette?.addItem({ command: CommandIDs.stop, category: 'CodeAct' });

    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          const apply = () =>
            chat.setSettings({
              model: (settings.get('model').composite as string) ?? '',
              apiBase: (settings.get('apiBase').composite as string) ?? '',
              maxSteps: (settings.get('maxSteps').composite as number) ?? 0,
              models: (settings.get('models').composite as string[]) ?? [],
              mode: (settings.get('mode').composite as string) ?? ''
            });
          apply();
          settings.changed.connect(apply);
        })
        .catch(reason => console.error('codeact-magic: could not load settings', reason));
    }
  }
};

export default plugin;
