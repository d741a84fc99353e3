// The run widget: status, the model's streamed text, the steps, tokens and cost, Stop, and the
// approvals of the confirm and step modes. Plain DOM, for every widget frontend.

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function money(cost) {
  return cost === null || cost === undefined ? "cost unknown" : `$${cost.toFixed(4)}`;
}

function render({ model, el: root }) {
  root.classList.add("codeact-run");
  const head = el("div", "codeact-head");
  const status = el("span", "codeact-status");
  const usage = el("span", "codeact-usage");
  const stop = el("button", "codeact-stop", "Stop");
  stop.title = "Stop the run. A step already running finishes first; the kernel's ■ Interrupt cuts it.";
  head.append(status, usage, stop);
  const steps = el("div", "codeact-steps");
  const text = el("div", "codeact-text");
  const pending = el("div", "codeact-pending");
  const end = el("div", "codeact-end");
  root.append(head, steps, text, pending, end);

  stop.addEventListener("click", () => model.send({ type: "stop" }));

  function drawHead() {
    status.textContent = `${model.get("status")} · ${model.get("model_name")}` +
      (model.get("mode") !== "auto" ? ` · ${model.get("mode")} mode` : "");
    const u = model.get("usage") || {};
    const tokens = (u.prompt_tokens || 0) + (u.completion_tokens || 0);
    // Nothing until the model has answered once: no "0 tokens · $0.0000" placeholder.
    usage.textContent = tokens ? `${tokens.toLocaleString("en-US")} tokens · ${money(u.cost)}` : "";
    stop.disabled = !model.get("running");
    // A question waiting for the user has its own Stop beside Run, Edit and Skip: one Stop shown.
    stop.hidden = Boolean((model.get("pending") || {}).kind);
  }

  function drawSteps() {
    steps.replaceChildren(...model.get("steps").map(step => {
      const node = el("details", `codeact-step codeact-${step.status}`);
      node.open = model.get("expand_steps");
      const mark = { running: "…", done: "✓", error: "✗", timeout: "⏱", skipped: "↷" }[step.status] || "";
      const count = step.execution_count !== null && step.execution_count !== undefined ? ` · In [${step.execution_count}]` : "";
      const tokens = step.tokens ? ` · ${step.tokens} tokens · ${money(step.cost)}` : "";
      const summary = el("summary", "", `${mark} step ${step.index}${count}${step.error ? " · " + step.error : ""}${tokens}`);
      const code = el("pre", "codeact-code", step.code);
      // Highlighted by the kernel (pygments, inline colours): the same in every widget frontend.
      if (step.code_html) code.innerHTML = step.code_html.replace(/^<pre[^>]*>|<\/pre>$/g, "");
      node.append(summary, code);
      if (step.output) node.append(el("pre", "codeact-output", step.output));
      return node;
    }));
  }

  function drawPending() {
    const p = model.get("pending") || {};
    pending.replaceChildren();
    if (p.kind === "approve") {
      pending.append(el("div", "codeact-ask", `Step ${p.index} wants to run:`));
      // Read highlighted; Edit turns it into an editor of the code.
      const view = el("pre", "codeact-code codeact-proposed", p.code);
      if (p.code_html) view.innerHTML = p.code_html.replace(/^<pre[^>]*>|<\/pre>$/g, "");
      const editor = el("textarea", "codeact-editor");
      editor.value = p.code;
      editor.spellcheck = false;
      editor.hidden = true;
      editor.rows = Math.min(16, p.code.split("\n").length + 1);
      editor.addEventListener("keydown", event => {
        if (event.key === "Tab") {  // indent, as a code editor does, rather than leave the field
          event.preventDefault();
          editor.setRangeText("    ", editor.selectionStart, editor.selectionEnd, "end");
        }
      });
      const run = el("button", "codeact-run-btn", "Run");
      const edit = el("button", "codeact-edit-btn", "Edit");
      const skip = el("button", "codeact-skip-btn", "Skip");
      const halt = el("button", "codeact-stop-btn", "Stop");
      run.addEventListener("click", () => model.send({ type: "run", code: editor.value }));
      edit.addEventListener("click", () => {
        view.hidden = true; editor.hidden = false; editor.focus(); edit.disabled = true;
      });
      skip.addEventListener("click", () => model.send({ type: "skip" }));
      halt.addEventListener("click", () => model.send({ type: "stop" }));
      const buttons = el("div", "codeact-buttons");
      buttons.append(run, edit, skip, halt);
      pending.append(view, editor, buttons);
    } else if (p.kind === "continue") {
      pending.append(el("div", "codeact-ask", `Step ${p.index} is done. Go on when you are ready.`));
      const go = el("button", "codeact-continue-btn", "Continue");
      const halt = el("button", "codeact-stop-btn", "Stop");
      go.addEventListener("click", () => model.send({ type: "continue" }));
      halt.addEventListener("click", () => model.send({ type: "stop" }));
      const buttons = el("div", "codeact-buttons");
      buttons.append(go, halt);
      pending.append(buttons);
    }
  }

  function drawEnd() {
    end.replaceChildren();
    const note = model.get("note");
    if (note) end.append(el("div", `codeact-note codeact-${model.get("outcome")}`, note));
    const summary = model.get("summary");
    if (summary) end.append(el("div", "codeact-summary", summary));
  }

  drawHead(); drawSteps(); drawPending(); drawEnd();
  function drawText() {
    // Rendered by the kernel from Markdown with raw HTML escaped (markdown-it, html off).
    const html = model.get("text_html");
    if (html) text.innerHTML = html; else text.textContent = model.get("text");
  }
  drawText();
  model.on("change:status", drawHead);
  model.on("change:usage", drawHead);
  model.on("change:running", drawHead);
  model.on("change:steps", drawSteps);
  model.on("change:expand_steps", drawSteps);
  model.on("change:pending", () => { drawPending(); drawHead(); });
  model.on("change:note", drawEnd);
  model.on("change:summary", drawEnd);
  model.on("change:text", drawText);
  model.on("change:text_html", drawText);
  // Tells the kernel this frontend renders widgets (else the run falls back to plain output).
  model.send({ type: "ready" });
}

export default { render };
