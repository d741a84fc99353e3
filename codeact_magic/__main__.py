"""`python -m codeact_magic`: the `codeact` command."""

import sys

from .cli.main import main

sys.exit(main())
