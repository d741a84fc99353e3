"""The `codeact` command: headless runs on notebooks."""
