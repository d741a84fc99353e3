/**
 * The kernel <-> frontend comm protocol, version 1. Written down in docs/protocol.md.
 */
import type * as nbformat from '@jupyterlab/nbformat';

export const COMM_TARGET = 'codeact_magic';
export const PROTOCOL_VERSION = 1;

export interface IUsage {
  prompt_tokens: number;
  completion_tokens: number;
  cost: number | null;
}

export interface IHello {
  type: 'hello';
  version: number;
  run_id: string;
  cell_id: string | null;
  request: string;
  model: string;
  max_steps: number;
}

/** `%codeact undo`: remove the cells run `run_id` inserted; answered with IUndone. */
export interface IUndo {
  type: 'undo';
  version: number;
  run_id: string;
  cell_id: string | null;
}

export interface IUndone {
  type: 'undone';
  removed: number;
}

export interface IToken {
  type: 'token';
  turn: number;
  text: string;
}

export interface IStepStarted {
  type: 'step_started';
  index: number;
  code: string;
  sent_at: number;
}

export type StepOutput = nbformat.IOutput | { output_type: 'clear_output'; wait: boolean };

export interface IOutputMsg {
  type: 'output';
  index: number;
  output: StepOutput;
}

export interface IStepDone {
  type: 'step_done';
  index: number;
  execution_count: number | null;
  status: 'ok' | 'error' | 'timeout';
  error: { ename: string; evalue: string } | null;
  seconds: number;
  usage: IUsage;
}

export interface IFinal {
  type: 'final';
  status: 'answered' | 'max_steps' | 'stopped' | 'error';
  answer: string | null;
  /** The answer as Markdown to render: a `$` before an amount escaped, so it is not math. */
  answer_markdown?: string | null;
  note: string | null;
  summary: string;
  usage: IUsage;
  /** The user's variables the run created, and those it bound to something else. */
  created?: string[];
  changed?: string[];
}

/** Which frontend holds the run: the first that acknowledged the hello. The others stay out. */
export interface IChosen {
  type: 'chosen';
  frontend: string | null;
}

/** The loop sent the model a message of its own (a nudge, a review, a stall warning...). */
export interface IFollowUp {
  type: 'followup';
  kind: string;
  label: string;
}

/** The model's server is busy with another request: the run waits its turn. */
export interface IWaiting {
  type: 'waiting';
  text: string;
}

/**
 * The run waits for the user (confirm mode: a step to approve; step mode: go on after a step), or
 * no longer does (`kind` null: answered here, in the run widget, or the run went on).
 */
export interface IPending {
  type: 'pending';
  kind: 'approve' | 'continue' | null;
  index?: number;
  code?: string;
}

/** The page's answer to a pending question (the run widget sends the same ones). */
export type Decision =
  | { type: 'run'; code: string }
  | { type: 'skip' }
  | { type: 'continue' }
  | { type: 'stop' };

export type KernelMessage =
  | IChosen
  | IPending
  | IToken
  | IWaiting
  | IStepStarted
  | IOutputMsg
  | IStepDone
  | IFollowUp
  | IFinal;
