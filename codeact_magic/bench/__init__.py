"""The task-success benchmarks (DABench, M3ToolEval) as a library: `codeact bench` and
`benchmarks/*.py` run them."""
