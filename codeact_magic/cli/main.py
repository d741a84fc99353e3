"""The ``codeact`` command (also ``python -m codeact_magic``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .export import FORMATS, export

BENCHMARKS = ("dabench", "m3tooleval")
from .notebook_run import CANNOT_START, RunOptions, run_notebook
from .serve import add_options as add_serve_options


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="codeact", description=(
        "Let a model work in a Jupyter kernel from the command line. The model and its key come "
        "from the kernel's environment and IPython configuration, as in a notebook "
        "(CODEACT_MODEL, CodeAct.api_key_env, ...); no key is ever passed on a command line."))
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run a request on a notebook and write the transcript into it",
                              description=(
        "Start a kernel for NOTEBOOK, run its code cells, append a %%codeact cell with REQUEST, run "
        "it, and write the notebook with the steps as code cells and the answer as a Markdown cell. "
        "Exit status: 0 answered, 1 not answered, 2 could not start, 3 a notebook cell failed, "
        "4 the kernel died."))
    run.add_argument("notebook", type=Path)
    run.add_argument("request", help="the request, in plain words")
    run.add_argument("--model", "-m", help="litellm model id, or 'local' for the embedded model")
    run.add_argument("--api-base", help="base URL of an OpenAI-compatible server")
    run.add_argument("--max-steps", type=int, help="code steps the run may take")
    run.add_argument("--timeout", type=float, help="seconds a step may run")
    run.add_argument("--output", "-o", type=Path, help="where to write the notebook (default: in place)")
    run.add_argument("--no-execute-first", dest="execute_first", action="store_false",
                     help="do not run the notebook's cells before the request")
    run.add_argument("--allow-errors", action="store_true",
                     help="go on when one of the notebook's cells fails")
    run.add_argument("--kernel", dest="kernel_name", help="kernel name (default: the notebook's)")
    export = commands.add_parser("export", help="runs as fine-tuning records (JSONL)", description=(
        "The runs kept in notebooks written by `codeact run` and in benchmark outcome files "
        "(benchmarks/*.py --out), as fine-tuning records: the system prompt, the request, each code "
        "action and the execution feedback as the model saw it, the final answer."))
    export.add_argument("sources", nargs="+", type=Path, help=".ipynb notebooks or .jsonl outcome files")
    export.add_argument("--format", "-f", required=True, choices=FORMATS)
    export.add_argument("--output", "-o", required=True, type=Path)
    export.add_argument("--only-answered", action="store_true", help="only runs that ended with an answer")
    export.add_argument("--only-solved", action="store_true",
                        help="only benchmark runs scored right (outcome files)")
    bench = commands.add_parser("bench", help="a task-success benchmark, with the loop's defaults",
                                description=(
        "Run DABench (--data: its dev folder) or M3ToolEval (--code-act: a checkout of "
        "xingyaoww/code-act) and write, into --out DIR, NAME.jsonl (each run's outcome and "
        "conversation, resumable; `codeact export` reads it) and NAME.md (the tables, beside the "
        "published figures). Every other option is the benchmark's own: `codeact bench NAME --help`."))
    served = commands.add_parser("serve", help="the embedded model as one server for a class or a team",
                                 description=(
        "Start the embedded model's OpenAI-compatible server in the foreground, listening where "
        "--host and --port say, answering only requests that carry the key held in $KEY_ENV. It "
        "prints the settings users' kernels need; with them, no kernel starts a model of its own."))
    add_serve_options(served)
    bench.add_argument("name", choices=BENCHMARKS)
    bench.add_argument("--out", type=Path, default=Path("codeact-bench"), help="folder for the results")
    return parser


def _bench(argv: list[str]) -> int:
    """``codeact bench NAME [--out DIR] [the benchmark's own options]``."""
    import importlib

    name, rest = argv[1], argv[2:]
    module = importlib.import_module(f"codeact_magic.bench.{name}")
    if "-h" in rest or "--help" in rest:
        module.main(["--help"])
        return 0
    own = argparse.ArgumentParser(add_help=False)
    own.add_argument("--out", type=Path, default=Path("codeact-bench"))
    known, rest = own.parse_known_args(rest)
    known.out.mkdir(parents=True, exist_ok=True)
    module.main([*rest, "--out", str(known.out / f"{name}.jsonl"), "--report", str(known.out / f"{name}.md")])
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"] and len(argv) > 1 and argv[1] in BENCHMARKS:
        return _bench(argv)
    args = _parser().parse_args(argv)
    if args.command == "run":
        if not args.request.strip():
            print("codeact run: the request is empty", file=sys.stderr)
            return CANNOT_START
        options = RunOptions(**{k: v for k, v in vars(args).items() if k != "command"})
        try:
            return run_notebook(options)
        except KeyboardInterrupt:  # the second Ctrl-C: leave at once, the notebook as it was
            print(f"\ncodeact run: left without writing; {options.notebook} is as it was.", file=sys.stderr)
            return 130
    if args.command == "serve":
        from .serve import serve

        return serve(args.host, args.port, args.key_env, args.context, args.threads)
    if args.command == "export":
        missing = [str(p) for p in args.sources if not p.exists()]
        if missing:
            print(f"codeact export: no such file: {', '.join(missing)}", file=sys.stderr)
            return CANNOT_START
        written, skipped = export(args.sources, args.format, args.output,
                                  only_answered=args.only_answered, only_solved=args.only_solved)
        print(f"{written} records written to {args.output}" + (f", {skipped} runs left out" if skipped else ""))
        return 0
    return CANNOT_START


if __name__ == "__main__":
    sys.exit(main())
