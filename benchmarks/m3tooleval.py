"""The M3ToolEval benchmark: ``python benchmarks/m3tooleval.py --help`` (the same as ``codeact bench m3tooleval``).
The harness lives in ``codeact_magic/bench/m3tooleval.py``."""

from codeact_magic.bench.m3tooleval import main

if __name__ == "__main__":
    main()
