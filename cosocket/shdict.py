"""`ngx.shared.DICT`: one dictionary shared by every worker of the server (`lua_shared_dict` zones).

A `SharedDict` stores strings, bytes, numbers and booleans under text or
bytes keys, with an optional expiry and user flags per key, and lists of
items (`lpush`, `rpop`...), in a zone of shared memory that the master
creates before forking, so that every worker sees the same entries.  `configure`
sets up the zones an nginx-style configuration names; `SharedDict.create`
makes one in any program.

The semantics are lua-nginx-module's and lua-resty-core's: the same
return tuples (Lua's missing values are None), the same error strings,
expired entries removed lazily two at a time from the LRU tail, and a full
zone evicting least recently used entries (`forcible` True) for `set`,
`add`, `replace` and `incr`, while `safe_set` / `safe_add` answer
`(False, "no memory", False)`.

The zone's memory layout, its lock and its repair after a worker dies
holding it are `cosocket.shdictzone`'s; how keys and values are held as
bytes is `cosocket.shdictcodec`'s.  `SharedDict.check()` lists the
structural problems of a zone (empty when it is consistent).
"""
from __future__ import annotations

import time
import zlib
from typing import Dict, Optional, Tuple, Union

from .shdictcodec import T_BIGINT, T_FLOAT, T_INT, T_LIST, T_NIL, encode_key, encode_value
from .shdictzone import ENTRY_HEADER, Zone
from .types import CountErr, IncrResult, ShdictInput, ShdictKey, ShdictValue, StoreResult

__all__ = ["SharedDict", "configure", "zones"]

# store operations, as lua-nginx-module numbers them
OP_SET, OP_ADD, OP_REPLACE, OP_SAFE = 0, 1, 2, 4


def _check_exptime(exptime, name: str = "exptime") -> float:
    if exptime is None:
        return 0.0
    if isinstance(exptime, bool) or not isinstance(exptime, (int, float)):
        raise TypeError('bad "%s" argument: number expected, got %s' % (name, type(exptime).__name__))
    if exptime < 0:
        raise ValueError('bad "%s" argument' % name)
    return float(exptime)


class SharedDict:
    """One `lua_shared_dict` zone, as `ngx.shared.NAME` (lua-resty-core's API and return tuples)."""

    def __init__(self, zone: Zone):
        self._zone = zone
        self.name = zone.name

    @classmethod
    def create(cls, name: str, size: int) -> "SharedDict":
        """A new zone of `size` bytes in this process (shared with processes forked afterwards)."""
        if not isinstance(name, str) or not isinstance(size, int):
            raise TypeError("SharedDict.create(name: str, size: int)")
        return cls(Zone(name, size))

    def __repr__(self) -> str:
        return "<SharedDict %s %d bytes>" % (self.name, self._zone.size)

    # -- reads -------------------------------------------------------------------------
    def get(self, key: ShdictKey) -> Tuple[ShdictValue, Union[int, str, None]]:
        """(value, flags) with flags None when 0; (None, None) when absent or expired; (None, err)."""
        kb, _kt, err = encode_key(key)
        if err:
            return None, err
        h = zlib.crc32(kb)
        zone = self._zone
        with zone:
            zone.expire_tail(False)
            ref = zone.find(kb, h)
            if not ref or not zone.live(ref, time.time()):
                return None, None
            e = zone.entry(ref)
            if e[7] == T_LIST:
                return None, "value is a list"
            zone.touch(ref)
            value = zone.value_of(ref)
        return value, (e[6] or None)

    def get_stale(self, key: ShdictKey) -> Tuple[ShdictValue, Union[int, str, None], Optional[bool]]:
        """(value, flags, stale): like get() but an expired entry not yet removed is returned with stale True.

        As with get(), the second slot is the flags (None when 0) or the error string."""
        kb, _kt, err = encode_key(key)
        if err:
            return None, err, None
        h = zlib.crc32(kb)
        zone = self._zone
        with zone:
            ref = zone.find(kb, h)
            if not ref:
                return None, None, None
            e = zone.entry(ref)
            if e[7] == T_LIST:
                return None, "value is a list", None
            live = zone.live(ref, time.time())
            if live:
                zone.touch(ref)
            value = zone.value_of(ref)
        return value, (e[6] or None), not live

    # -- stores ------------------------------------------------------------------------
    def _store(self, op: int, key: ShdictKey, value: ShdictInput, exptime: Optional[float],
               flags: Optional[int]) -> StoreResult:
        exptime = _check_exptime(exptime)
        if flags is None:
            flags = 0
        elif isinstance(flags, bool) or not isinstance(flags, int):
            raise TypeError("bad flags argument: number expected, got %s" % type(flags).__name__)
        kb, kt, err = encode_key(key)
        if err:
            return None, err, None
        vtype, vb = encode_value(value)
        if vtype is None:
            return None, "bad value type", None
        if vtype == T_NIL and op & (OP_ADD | OP_REPLACE):
            return False, "attempt to add or replace nil values", False
        h = zlib.crc32(kb)
        zone = self._zone
        with zone:
            now = time.time()
            expires = now + exptime if exptime > 0 else 0.0
            flags &= 0xFFFFFFFF
            zone.expire_tail(False)
            ref = zone.find(kb, h)
            live = bool(ref) and zone.live(ref, now)
            if op & OP_REPLACE and not live:
                return False, "not found", False
            if op & OP_ADD and live:
                return False, "exists", False
            if ref:
                if vtype != T_NIL and zone.rewrite(ref, kt, vtype, vb, expires, flags):
                    return True, None, False
                zone.remove(ref)
            if vtype == T_NIL:
                return True, None, False
            need = ENTRY_HEADER + len(kb) + len(vb)
            if op & OP_SAFE:
                new, forcible = zone.alloc(need), False
            else:
                new, forcible = zone.alloc_evicting(need)
            if not new:
                return False, "no memory", forcible
            zone.create(kb, kt, h, vtype, vb, expires, flags, ref=new)
        return True, None, forcible

    def set(self, key: ShdictKey, value: ShdictInput, exptime: Optional[float] = 0,
            flags: Optional[int] = 0) -> StoreResult:
        """Store `value` (None deletes): (True, None, forcible); forcible is True when LRU entries were evicted."""
        return self._store(OP_SET, key, value, exptime, flags)

    def safe_set(self, key: ShdictKey, value: ShdictInput, exptime: Optional[float] = 0,
                 flags: Optional[int] = 0) -> StoreResult:
        """set() that never evicts: (False, "no memory", False) when the zone is full."""
        return self._store(OP_SET | OP_SAFE, key, value, exptime, flags)

    def add(self, key: ShdictKey, value: ShdictInput, exptime: Optional[float] = 0,
            flags: Optional[int] = 0) -> StoreResult:
        """set() only when the key is absent or expired, else (False, "exists", False)."""
        return self._store(OP_ADD, key, value, exptime, flags)

    def safe_add(self, key: ShdictKey, value: ShdictInput, exptime: Optional[float] = 0,
                 flags: Optional[int] = 0) -> StoreResult:
        """add() that never evicts."""
        return self._store(OP_ADD | OP_SAFE, key, value, exptime, flags)

    def replace(self, key: ShdictKey, value: ShdictInput, exptime: Optional[float] = 0,
                flags: Optional[int] = 0) -> StoreResult:
        """set() only when the key is present and not expired, else (False, "not found", False)."""
        return self._store(OP_REPLACE, key, value, exptime, flags)

    def delete(self, key: ShdictKey) -> StoreResult:
        """Remove the key: (True, None, False)."""
        return self._store(OP_SET, key, None, 0, 0)

    def incr(self, key: ShdictKey, value: float, init: Optional[float] = None,
             init_ttl: Optional[float] = None) -> IncrResult:
        """Add `value` to a number: (new, None, forcible) with init given, (new, None, None) without;
        (None, "not found", None) when absent and no init; (None, "not a number", None)."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError("bad value argument: number expected, got %s" % type(value).__name__)
        if init is not None and (isinstance(init, bool) or not isinstance(init, (int, float))):
            raise TypeError("bad init arg: number expected, got %s" % type(init).__name__)
        if init_ttl is not None:
            init_ttl = _check_exptime(init_ttl, "init_ttl")
            if init is None:
                raise ValueError('must provide "init" when providing "init_ttl"')
        else:
            init_ttl = 0.0
        kb, kt, err = encode_key(key)
        if err:
            return None, err, None
        h = zlib.crc32(kb)
        zone = self._zone
        forcible = False
        with zone:
            now = time.time()
            zone.expire_tail(False)
            ref = zone.find(kb, h)
            if ref and zone.live(ref, now):
                e = zone.entry(ref)
                if e[7] not in (T_INT, T_FLOAT, T_BIGINT):
                    return None, "not a number", None
                new = zone.value_of(ref) + value
                vtype, vb = encode_value(new)
                if not zone.rewrite(ref, e[8], vtype, vb, e[5], e[6]):
                    expires, flags = e[5], e[6]
                    zone.remove(ref)
                    new_ref, forcible = zone.alloc_evicting(ENTRY_HEADER + len(kb) + len(vb))
                    if not new_ref:
                        return None, "no memory", None
                    zone.create(kb, e[8], h, vtype, vb, expires, flags, ref=new_ref)
                return new, None, (forcible if init is not None else None)
            if init is None:
                return None, "not found", None
            new = init + value
            vtype, vb = encode_value(new)
            expires = now + init_ttl if init_ttl > 0 else 0.0
            if ref:  # expired: reuse its run when the number fits, flags reset
                if zone.rewrite(ref, kt, vtype, vb, expires, 0):
                    return new, None, False
                zone.remove(ref)
            new_ref, forcible = zone.alloc_evicting(ENTRY_HEADER + len(kb) + len(vb))
            if not new_ref:
                return None, "no memory", None
            zone.create(kb, kt, h, vtype, vb, expires, 0, ref=new_ref)
        return new, None, forcible

    # -- lists -------------------------------------------------------------------------
    def _push(self, key: ShdictKey, value: ShdictInput, left: bool) -> CountErr:
        kb, kt, err = encode_key(key)
        if err:
            return None, err
        vtype, vb = encode_value(value, list_item=True)
        if vtype is None or vtype == T_NIL:
            return None, "bad value type"
        h = zlib.crc32(kb)
        zone = self._zone
        with zone:
            zone.expire_tail(False)
            ref = zone.find(kb, h)
            if ref:
                e = zone.entry(ref)
                live = zone.live(ref, time.time())
                if e[7] != T_LIST:
                    if live:
                        return None, "value not a list"
                    zone.remove(ref)
                    ref = 0
                elif not live:  # an expired list starts over
                    zone.remove(ref)
                    ref = 0
                else:
                    zone.touch(ref)
            if not ref:
                ref = zone.create_list(kb, kt, h, 0.0, 0)
                if not ref:
                    return False, "no memory"
            count = zone.list_push(ref, vtype, vb, left)
            if not count:
                if zone.entry(ref)[10] == 0:
                    zone.remove(ref)
                return None, "no memory"
        return count, None

    def _pop(self, key: ShdictKey, left: bool) -> Tuple[ShdictValue, Optional[str]]:
        kb, kt, err = encode_key(key)
        if err:
            return None, err
        h = zlib.crc32(kb)
        zone = self._zone
        with zone:
            zone.expire_tail(False)
            ref = zone.find(kb, h)
            if not ref or not zone.live(ref, time.time()):
                return None, None
            e = zone.entry(ref)
            if e[7] != T_LIST:
                return None, "value not a list"
            if e[10] == 0:
                return None, None
            value = zone.list_pop(ref, e, left)
        return value, None

    def lpush(self, key: ShdictKey, value: ShdictInput) -> CountErr:
        """Insert at the head of the list at `key` (created if absent): (length, None) or (None, err)."""
        return self._push(key, value, True)

    def rpush(self, key: ShdictKey, value: ShdictInput) -> CountErr:
        """Insert at the tail of the list at `key`: (length, None) or (None, err)."""
        return self._push(key, value, False)

    def lpop(self, key: ShdictKey) -> Tuple[ShdictValue, Optional[str]]:
        """Remove and return the head of the list: (value, None); (None, None) when absent or empty."""
        return self._pop(key, True)

    def rpop(self, key: ShdictKey) -> Tuple[ShdictValue, Optional[str]]:
        """Remove and return the tail of the list: (value, None); (None, None) when absent or empty."""
        return self._pop(key, False)

    def llen(self, key: ShdictKey) -> CountErr:
        """(length, None); (0, None) when absent; (None, "value not a list")."""
        kb, _kt, err = encode_key(key)
        if err:
            return None, err
        h = zlib.crc32(kb)
        zone = self._zone
        with zone:
            zone.expire_tail(False)
            ref = zone.find(kb, h)
            if not ref or not zone.live(ref, time.time()):
                return 0, None
            e = zone.entry(ref)
            if e[7] != T_LIST:
                return None, "value not a list"
            zone.touch(ref)
        return e[10], None

    # -- expiry ------------------------------------------------------------------------
    def ttl(self, key: ShdictKey) -> Tuple[Optional[float], Optional[str]]:
        """(seconds left, None), 0 for no expiry (negative once expired but not yet removed);
        (None, "not found")."""
        kb, _kt, err = encode_key(key)
        if err:
            return None, err
        h = zlib.crc32(kb)
        with self._zone as zone:
            ref = zone.find(kb, h)
            if not ref:
                return None, "not found"
            expires = zone.entry(ref)[5]
        if expires == 0:
            return 0, None
        return round(expires - time.time(), 3), None

    def expire(self, key: ShdictKey, exptime: Optional[float]) -> Tuple[Optional[bool], Optional[str]]:
        """Set a new expiry (seconds; 0 = never): (True, None) or (None, "not found")."""
        if exptime is None:
            raise ValueError('bad "exptime" argument')
        if isinstance(exptime, bool) or not isinstance(exptime, (int, float)):
            raise TypeError('bad "exptime" argument: number expected, got %s' % type(exptime).__name__)
        kb, _kt, err = encode_key(key)
        if err:
            return None, err
        h = zlib.crc32(kb)
        with self._zone as zone:
            ref = zone.find(kb, h)
            if not ref:
                return None, "not found"
            expires = time.time() + exptime if exptime > 0 else 0.0
            zone.set_expires(ref, expires)
        return True, None

    def flush_all(self) -> None:
        """Mark every entry expired (memory is reclaimed lazily or by flush_expired)."""
        with self._zone as zone:
            for ref in zone.walk_from_tail():
                zone.set_expires(ref, 1.0)

    def flush_expired(self, max_count: int = 0) -> int:
        """Free expired entries (at most `max_count` when > 0); returns how many were freed."""
        freed = 0
        with self._zone as zone:
            now = time.time()
            for ref in list(zone.walk_from_tail()):
                if not zone.live(ref, now):
                    zone.remove(ref)
                    freed += 1
                    if max_count and freed >= max_count:
                        break
        return freed

    def get_keys(self, max_count: int = 1024) -> list[Union[str, bytes]]:
        """Live keys, least recently used first; at most `max_count` (0 = all)."""
        keys = []
        with self._zone as zone:
            now = time.time()
            for ref in zone.walk_from_tail():
                if zone.live(ref, now):
                    keys.append(zone.key_of(ref))
                    if max_count and len(keys) >= max_count:
                        break
        return keys

    def check(self) -> list:
        """The zone's structural problems, as text (an empty list when it is consistent).

        Every entry reachable through its hash chain and the LRU list, counts and free units
        right, runs not overlapping, values decodable.  Taking the lock repairs a zone left half
        written by a dead process first, so this describes what any later operation sees."""
        with self._zone as zone:
            return zone.scan()[1]

    # -- sizes ---------------------------------------------------------------------------
    def capacity(self) -> int:
        """The zone's size in bytes, as configured."""
        return self._zone.size

    def free_space(self) -> int:
        """Free bytes in the zone's heap (nginx counts free pages; this counts free 32-byte units)."""
        with self._zone as zone:
            return zone.free_bytes()


#: zone name -> SharedDict, the zones configured in this process (workers inherit them)
zones: Dict[str, SharedDict] = {}


def configure(wanted) -> Dict[str, SharedDict]:
    """Make `zones` hold exactly the (name, size) pairs in `wanted`.

    A zone with the same name and size as an existing one is kept with its
    data (as nginx keeps shared memory across a reload); others are created
    empty; zones no longer wanted are unmapped here (processes forked earlier
    keep their own mapping)."""
    new: Dict[str, SharedDict] = {}
    for name, size in wanted:
        old = zones.get(name)
        if old is not None and old._zone.size == size:
            new[name] = old
        else:
            new[name] = SharedDict.create(name, size)
    for name, old in list(zones.items()):
        if new.get(name) is not old:
            old._zone.close()
    zones.clear()
    zones.update(new)
    return dict(zones)
