"""The bench modules are scripts beside this folder, not a package: put bench/ on the path."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
