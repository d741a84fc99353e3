"""The DABench benchmark: ``python benchmarks/dabench.py --help`` (the same as ``codeact bench dabench``).
The harness lives in ``codeact_magic/bench/dabench.py``."""

from codeact_magic.bench.dabench import main

if __name__ == "__main__":
    main()
