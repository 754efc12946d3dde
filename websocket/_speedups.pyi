"""websocket._speedups: the C twins of websocket.frames.apply_mask and websocket.frames.parse."""
from typing import Optional, Tuple, Union

_Buffer = Union[bytes, bytearray, memoryview]

def apply_mask(data: _Buffer, key: _Buffer) -> bytes: ...
def parse(buf: _Buffer, have: int, limit: int, rules: int
          ) -> Union[None, int, Tuple[int, Optional[bytes], int, int, Optional[bytes]]]: ...
