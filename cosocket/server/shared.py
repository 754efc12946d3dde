"""ngx.shared: the lua_shared_dict zones of this process by name."""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from ..shdict import SharedDict


class _Shared(dict):
    """`ngx.shared`: zones by name, also as attributes (`ngx.shared.cache`); an unknown
    name gives None, as Lua's `ngx.shared.nope` is nil."""

    def __missing__(self, name: str) -> None:
        return None

    def __getattr__(self, name: str) -> Optional[SharedDict]:
        if name.startswith("__"):
            raise AttributeError(name)
        return self[name]


shared = _Shared()


def setup_shared(zones) -> None:
    """Make `ngx.shared` the `lua_shared_dict` zones (name, size): zones the master already
    created (inherited by a forked worker, or kept across a reload) are reused, with their data."""
    from .. import shdict
    shared.clear()
    shared.update(shdict.configure(zones))

