"""`python -m cosocket`: the same as the `cosocket-server` command."""
import sys

from .server.cli import main

sys.exit(main())
