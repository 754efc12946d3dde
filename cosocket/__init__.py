"""OpenResty's cosocket model on gevent: `from cosocket import ngx`."""
from .ngx import ngx
from .runtime import configure

__version__ = "0.1.0"
__all__ = ["ngx", "configure", "__version__"]
