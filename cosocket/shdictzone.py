"""The memory of one `lua_shared_dict` zone: its layout, its lock, and its repair after a crash.

A zone is `size` bytes of anonymous shared memory (a memfd mapped
MAP_SHARED) that the master creates before forking, so every worker sees
the same bytes.  Inside the zone:

    header | hash buckets (uint32 each) | unit map (1 byte per unit) | heap (units of 32 bytes)

Entries live in runs of units found by first fit in the unit map (a
`find` of N zero bytes, done in C).  An entry carries its hash chain link,
its place in the LRU list (most recently used at the head), its expiry
(epoch seconds, 0 = never), the user flags, the key and the value (typed
and encoded by `cosocket.shdictcodec`).  Lists (`lpush`...) are entries
whose value holds the head and tail of a chain of separately allocated
nodes.

Every operation runs under the zone's lock: a POSIX record lock (`fcntl`)
on the memfd's first byte, plus a thread lock for threads of one process.
A record lock costs about 1.7 us per lock/unlock pair (a semaphore would
cost 0.1 us) but the kernel releases it when its holder dies, so a worker
killed in the middle of an operation cannot leave the other workers
blocked forever.  The critical sections never yield to the gevent hub.

A worker killed in the middle of an operation must not leave the zone
broken either.  The header's state byte is set when the lock is taken and
cleared when it is released (two one-byte stores, no system call); an
operation about to write an entry's bytes in place also records that
entry.  A locker that finds the byte set knows the previous holder died
inside its critical section: it rebuilds the zone from every entry that
still reads back whole (hash matching its key, value decodable, runs not
overlapping, list chains intact), dropping the entry that was being
written, and logs the repair at `alert`.  `Zone.scan()` lists the
structural problems of a zone (none when it is consistent).

`cosocket.shdict` builds the `ngx.shared.DICT` API on `Zone`; the zone
knows nothing of that API's arguments, return tuples or error strings.
"""
from __future__ import annotations

import fcntl
import math
import mmap
import os
import struct
import threading
import time
import zlib
from typing import Any, Dict, Iterable, Optional, Tuple

from . import log
from .shdictcodec import K_BYTES, K_STR, T_BIGINT, T_BOOL, T_BYTES, T_FLOAT, T_INT, T_LIST, T_NIL, T_STR, decode_value

__all__ = ["Zone", "UNIT", "ENTRY_HEADER"]

UNIT = 32
_MAGIC = b"SHD1"

# header: magic, size, n_units, n_buckets, lru_head, lru_tail, count, free_units
_HDR = struct.Struct("<4sQIIIIII")
_HDR_SIZE = 64
_O_LRU_HEAD = 20
_O_LRU_TAIL = 24
_O_COUNT = 28
_O_FREE = 32
_O_HINT = 36  # every unit below this index is in use (first fit starts its search here)
_O_STATE = 40  # one byte: 0 between operations, _BUSY or _WRITING while a holder of the lock runs
_O_INFLIGHT = 44  # with _WRITING: the entry whose bytes are being written in place
_BUSY, _WRITING = 1, 2

# entry: units, hnext, prev, next, hash, expires, flags, vtype, ktype, klen, vlen
_ENT = struct.Struct("<IIIIIdIBBHI")
_E_UNITS, _E_HNEXT, _E_PREV, _E_NEXT, _E_HASH, _E_EXPIRES, _E_FLAGS = 0, 4, 8, 12, 16, 20, 28
_E_VLEN = 36
_E_DATA = _ENT.size  # 40

# list node: units, next, prev, vtype, len
_NODE = struct.Struct("<IIIB3xI")
_N_NEXT, _N_PREV = 4, 8
_N_DATA = _NODE.size  # 20
_LIST_VALUE = struct.Struct("<II")  # head, tail node refs; the count is the entry's vlen

_U32 = struct.Struct("<I")
_F64 = struct.Struct("<d")

ENTRY_HEADER = _E_DATA  # bytes of an entry before its key (an entry takes ENTRY_HEADER + key + value)
_EMPTY_LIST = _LIST_VALUE.pack(0, 0)

_EVICT_ROUNDS = 30
_VALUE_TYPES = frozenset((T_NIL, T_BOOL, T_FLOAT, T_STR, T_BYTES, T_INT, T_BIGINT))
_ITEM_TYPES = frozenset((T_FLOAT, T_STR, T_BYTES, T_INT, T_BIGINT))


class Zone:
    """The shared memory of one zone and the primitives on it: `with zone:` holds its lock, which
    every other call expects held."""

    def __init__(self, name: str, size: int):
        if size < 8192:
            raise ValueError("a shared dict zone needs at least 8192 bytes")
        self.name = name
        self.size = size
        self.fd = os.memfd_create("lua_shared_dict:" + name)  # close-on-exec, inherited by fork
        try:
            os.ftruncate(self.fd, size)
            self.mm = mmap.mmap(self.fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        except BaseException:
            os.close(self.fd)
            raise
        rest = size - _HDR_SIZE
        buckets = 1 << max(4, int(math.log2(max(rest // 256, 16))))
        self.n_buckets = buckets
        self.buckets_off = _HDR_SIZE
        self.map_off = self.buckets_off + 4 * buckets
        self.n_units = (size - self.map_off) // (UNIT + 1)
        self.heap_off = self.map_off + self.n_units
        self.thread_lock = threading.Lock()
        self._zeros: Dict[int, bytes] = {}
        self.format()

    def format(self) -> None:
        """An empty zone: the header, no hash chains, every unit free."""
        _HDR.pack_into(self.mm, 0, _MAGIC, self.size, self.n_units, self.n_buckets, 0, 0, 0, self.n_units)
        self._put(_O_HINT, 0)
        self._put(_O_INFLIGHT, 0)
        self.mm[self.buckets_off:self.heap_off] = bytes(self.heap_off - self.buckets_off)

    def close(self) -> None:
        try:
            self.mm.close()
        finally:
            os.close(self.fd)

    # -- lock ------------------------------------------------------------------------
    def __enter__(self):
        self.thread_lock.acquire()
        try:
            fcntl.lockf(self.fd, fcntl.LOCK_EX, 1, 0)
            mm = self.mm
            if mm[_O_STATE]:
                self.recover()
            mm[_O_STATE] = _BUSY
        except BaseException:
            self._unlock()
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:  # an exception may have stopped a write half way: the next locker checks
            self.mm[_O_STATE] = 0
        try:  # _unlock(), inlined: this runs once per operation
            fcntl.lockf(self.fd, fcntl.LOCK_UN, 1, 0)
        finally:
            self.thread_lock.release()

    def _unlock(self) -> None:
        try:
            fcntl.lockf(self.fd, fcntl.LOCK_UN, 1, 0)
        finally:
            self.thread_lock.release()

    def set_expires(self, ref: int, expires: float) -> None:
        """Give entry `ref` a new expiry (epoch seconds, 0 = never), written in place."""
        mm = self.mm
        _U32.pack_into(mm, _O_INFLIGHT, ref)  # the in-flight mark: these bytes are being overwritten
        mm[_O_STATE] = _WRITING
        _F64.pack_into(mm, self.offset(ref) + _E_EXPIRES, expires)

    # -- header fields -------------------------------------------------------------
    def _get(self, off: int) -> int:
        return _U32.unpack_from(self.mm, off)[0]

    def _put(self, off: int, value: int) -> None:
        _U32.pack_into(self.mm, off, value)

    def free_bytes(self) -> int:
        """Bytes in the heap's free units."""
        return self._get(_O_FREE) * UNIT

    def offset(self, ref: int) -> int:
        """Byte offset of the run whose reference (unit index + 1) is `ref`."""
        return self.heap_off + (ref - 1) * UNIT

    # -- units -----------------------------------------------------------------------
    def alloc(self, nbytes: int) -> int:
        """A run of units holding `nbytes`; its reference, or 0 when no run is free."""
        n = (nbytes + UNIT - 1) // UNIT
        zeros = self._zeros.get(n)
        if zeros is None:
            zeros = bytes(n)
            if n <= 64:
                self._zeros[n] = zeros
        hint = self._get(_O_HINT)
        idx = self.mm.find(zeros, self.map_off + hint, self.map_off + self.n_units)
        if idx < 0:
            return 0
        self.mm[idx:idx + n] = b"\x01" * n
        self._put(_O_FREE, self._get(_O_FREE) - n)
        ref = idx - self.map_off + 1
        if ref - 1 == hint:
            self._put(_O_HINT, hint + n)
        _U32.pack_into(self.mm, self.offset(ref), n)
        return ref

    def free(self, ref: int) -> None:
        n = _U32.unpack_from(self.mm, self.offset(ref))[0]
        start = self.map_off + ref - 1
        self.mm[start:start + n] = bytes(n)
        self._put(_O_FREE, self._get(_O_FREE) + n)
        if ref - 1 < self._get(_O_HINT):
            self._put(_O_HINT, ref - 1)

    # -- hash table --------------------------------------------------------------------
    def find(self, kb: bytes, h: int) -> int:
        """The entry holding key `kb` (hash `h`), expired or not; 0 when absent."""
        mm = self.mm
        ref = _U32.unpack_from(mm, self.buckets_off + 4 * (h & (self.n_buckets - 1)))[0]
        klen = len(kb)
        while ref:
            off = self.heap_off + (ref - 1) * UNIT
            _u, hnext, _p, _n, eh, _e, _f, _vt, _kt, eklen, _vl = _ENT.unpack_from(mm, off)
            if eh == h and eklen == klen and mm[off + _E_DATA:off + _E_DATA + klen] == kb:
                return ref
            ref = hnext
        return 0

    def _hash_insert(self, ref: int, h: int) -> None:
        slot = self.buckets_off + 4 * (h & (self.n_buckets - 1))
        self._put(self.offset(ref) + _E_HNEXT, self._get(slot))
        self._put(slot, ref)

    def _hash_remove(self, ref: int, h: int) -> None:
        slot = self.buckets_off + 4 * (h & (self.n_buckets - 1))
        nxt = self._get(self.offset(ref) + _E_HNEXT)
        cur = self._get(slot)
        if cur == ref:
            self._put(slot, nxt)
            return
        while cur:
            link = self.offset(cur) + _E_HNEXT
            after = self._get(link)
            if after == ref:
                self._put(link, nxt)
                return
            cur = after

    # -- LRU list ----------------------------------------------------------------------
    def _lru_unlink(self, ref: int) -> None:
        off = self.offset(ref)
        prev, nxt = self._get(off + _E_PREV), self._get(off + _E_NEXT)
        if prev:
            self._put(self.offset(prev) + _E_NEXT, nxt)
        else:
            self._put(_O_LRU_HEAD, nxt)
        if nxt:
            self._put(self.offset(nxt) + _E_PREV, prev)
        else:
            self._put(_O_LRU_TAIL, prev)

    def _lru_push(self, ref: int) -> None:
        off = self.offset(ref)
        head = self._get(_O_LRU_HEAD)
        self._put(off + _E_PREV, 0)
        self._put(off + _E_NEXT, head)
        if head:
            self._put(self.offset(head) + _E_PREV, ref)
        else:
            self._put(_O_LRU_TAIL, ref)
        self._put(_O_LRU_HEAD, ref)

    def touch(self, ref: int) -> None:
        """Make `ref` the most recently used entry."""
        if self._get(_O_LRU_HEAD) != ref:
            self._lru_unlink(ref)
            self._lru_push(ref)

    # -- entries -------------------------------------------------------------------------
    def entry(self, ref: int) -> tuple:
        """(units, hnext, prev, next, hash, expires, flags, vtype, ktype, klen, vlen)."""
        return _ENT.unpack_from(self.mm, self.offset(ref))

    def live(self, ref: int, now: float) -> bool:
        """Whether entry `ref` has not expired at `now` (epoch seconds)."""
        expires = _F64.unpack_from(self.mm, self.offset(ref) + _E_EXPIRES)[0]
        return expires == 0 or expires > now

    def create(self, kb: bytes, kt: int, h: int, vtype: int, vb: bytes, expires: float, flags: int,
               vlen: Optional[int] = None, ref: int = 0) -> int:
        """A new entry (in run `ref` if given) linked at the head of the LRU list; 0 when no room."""
        if not ref:
            ref = self.alloc(_E_DATA + len(kb) + len(vb))
            if not ref:
                return 0
        # No in-flight mark: the entry is linked only after its bytes are written, and every
        # state a kill can leave (unlinked, in the hash chain only, not counted yet) reads back whole.
        off = self.offset(ref)
        units = self._get(off)
        _ENT.pack_into(self.mm, off, units, 0, 0, 0, h, expires, flags, vtype, kt, len(kb),
                       len(vb) if vlen is None else vlen)
        data = off + _E_DATA
        self.mm[data:data + len(kb)] = kb
        self.mm[data + len(kb):data + len(kb) + len(vb)] = vb
        self._hash_insert(ref, h)
        self._lru_push(ref)
        self._put(_O_COUNT, self._get(_O_COUNT) + 1)
        return ref

    def create_list(self, kb: bytes, kt: int, h: int, expires: float, flags: int) -> int:
        """A new empty list entry, as create(); 0 when no room."""
        return self.create(kb, kt, h, T_LIST, _EMPTY_LIST, expires, flags, vlen=0)

    def rewrite(self, ref: int, kt: int, vtype: int, vb: bytes, expires: float, flags: int) -> bool:
        """Store a new value in place when it fits the entry's run; False when it does not."""
        units, _hn, _p, _n, h, _e, _f, old_type, _kt, klen, _vl = self.entry(ref)
        if old_type == T_LIST or _E_DATA + klen + len(vb) > units * UNIT:
            return False
        mm = self.mm
        _U32.pack_into(mm, _O_INFLIGHT, ref)  # the in-flight mark, as in set_expires()
        mm[_O_STATE] = _WRITING
        off = self.offset(ref)
        _ENT.pack_into(mm, off, units, _hn, _p, _n, h, expires, flags, vtype, kt, klen, len(vb))
        data = off + _E_DATA + klen
        self.mm[data:data + len(vb)] = vb
        self.touch(ref)
        return True

    def remove(self, ref: int) -> None:
        """Unlink and free an entry (and a list's nodes)."""
        _u, _hn, _p, _n, h, _e, _f, vtype, _kt, klen, vlen = self.entry(ref)
        if vtype == T_LIST:
            node = _LIST_VALUE.unpack_from(self.mm, self.offset(ref) + _E_DATA + klen)[0]
            while node:
                nxt = self._get(self.offset(node) + _N_NEXT)
                self.free(node)
                node = nxt
        self._hash_remove(ref, h)
        self._lru_unlink(ref)
        self.free(ref)
        self._put(_O_COUNT, self._get(_O_COUNT) - 1)

    def key_of(self, ref: int):
        _u, _hn, _p, _n, _h, _e, _f, _vt, kt, klen, _vl = self.entry(ref)
        start = self.offset(ref) + _E_DATA
        kb = self.mm[start:start + klen]
        return kb.decode("utf-8", "surrogatepass") if kt == K_STR else kb

    def value_of(self, ref: int):
        _u, _hn, _p, _n, _h, _e, _f, vtype, _kt, klen, vlen = self.entry(ref)
        start = self.offset(ref) + _E_DATA + klen
        return decode_value(vtype, self.mm[start:start + vlen])

    def expire_tail(self, force: bool) -> int:
        """nginx's expiry sweep: drop up to two expired entries at the LRU tail; with
        `force`, drop the least recently used entry first whatever its expiry.  Returns the count."""
        now = time.time()
        freed = 0
        n = 0 if force else 1
        while n < 3:
            tail = self._get(_O_LRU_TAIL)
            if not tail:
                return freed
            if n != 0:
                expires = _F64.unpack_from(self.mm, self.offset(tail) + _E_EXPIRES)[0]
                if expires == 0 or expires > now:
                    return freed
            n += 1
            self.remove(tail)
            freed += 1
        return freed

    def alloc_evicting(self, nbytes: int) -> Tuple[int, bool]:
        """alloc(), evicting LRU entries while the zone is full: (ref or 0, forcible)."""
        ref = self.alloc(nbytes)
        forcible = False
        rounds = 0
        while not ref and rounds < _EVICT_ROUNDS:
            rounds += 1
            if self.expire_tail(True) == 0:
                break
            forcible = True
            ref = self.alloc(nbytes)
        return ref, forcible

    def list_push(self, ref: int, vtype: int, vb: bytes, left: bool) -> int:
        """Add an item at the head (left) or tail of list entry `ref`: the new length, 0 when no room.

        The node is filled before it is linked, so a holder killed half way leaves the list whole
        (and at worst a run marked used that no entry owns, which the next locker's repair frees)."""
        mm = self.mm
        node = self.alloc(_N_DATA + len(vb))
        if not node:
            return 0
        off = self.offset(ref)
        lv = off + _E_DATA + self.entry(ref)[9]
        count = _U32.unpack_from(mm, off + _E_VLEN)[0]
        noff = self.offset(node)
        head, tail = _LIST_VALUE.unpack_from(mm, lv)
        if left:
            _NODE.pack_into(mm, noff, self._get(noff), head, 0, vtype, len(vb))
        else:
            _NODE.pack_into(mm, noff, self._get(noff), 0, tail, vtype, len(vb))
        mm[noff + _N_DATA:noff + _N_DATA + len(vb)] = vb
        if left:
            if head:
                _U32.pack_into(mm, self.offset(head) + _N_PREV, node)
            else:
                tail = node
            head = node
        else:
            if tail:
                _U32.pack_into(mm, self.offset(tail) + _N_NEXT, node)
            else:
                head = node
            tail = node
        _LIST_VALUE.pack_into(mm, lv, head, tail)
        _U32.pack_into(mm, off + _E_VLEN, count + 1)
        return count + 1

    def list_pop(self, ref: int, entry: tuple, left: bool):
        """Remove and return the item at the head (left) or tail of list entry `ref`, whose entry()
        tuple, read under this lock, is `entry` and counts at least one item.  The entry goes with
        its last item; otherwise it becomes the most recently used."""
        mm = self.mm
        count = entry[10]
        lv = self.offset(ref) + _E_DATA + entry[9]
        head, tail = _LIST_VALUE.unpack_from(mm, lv)
        node = head if left else tail
        _u, nxt, prev, vtype, vlen = _NODE.unpack_from(mm, self.offset(node))
        start = self.offset(node) + _N_DATA
        value = decode_value(vtype, mm[start:start + vlen])
        if count == 1:
            self.remove(ref)  # frees the node too
            return value
        if left:
            head = nxt
            _U32.pack_into(mm, self.offset(head) + _N_PREV, 0)
        else:
            tail = prev
            _U32.pack_into(mm, self.offset(tail) + _N_NEXT, 0)
        self.free(node)
        _LIST_VALUE.pack_into(mm, lv, head, tail)
        _U32.pack_into(mm, self.offset(ref) + _E_VLEN, count - 1)
        self.touch(ref)
        return value

    # -- crash repair ------------------------------------------------------------------
    def scan(self) -> Tuple[list, list]:
        """Read the whole zone without trusting it: (records, problems).

        `records` are the entries that read back whole, most recently used first, as
        (key bytes, key type, value type, value bytes or list items, expires, flags); an entry
        recorded as being written is left out.  `problems` describes every inconsistency found
        (an empty list: the zone is consistent)."""
        mm = self.mm
        n_units = self.n_units
        problems: list = []
        magic, size, nu, nb, head, tail, count, free = _HDR.unpack_from(mm, 0)
        if magic != _MAGIC or size != self.size or nu != n_units or nb != self.n_buckets:
            return [], ["bad header"]
        used = bytearray(n_units)

        def in_heap(ref: int) -> bool:
            if not 1 <= ref <= n_units:
                return False
            units = _U32.unpack_from(mm, self.offset(ref))[0]
            return units >= 1 and ref - 1 + units <= n_units

        order: list = []
        seen: set = set()
        prev, ref = 0, head
        while ref:
            if ref in seen or not in_heap(ref):
                problems.append("LRU list: bad link to %d" % ref)
                break
            e = _ENT.unpack_from(mm, self.offset(ref))
            if e[2] != prev:
                problems.append("LRU list: entry %d links back to %d, not %d" % (ref, e[2], prev))
            seen.add(ref)
            order.append(ref)
            prev, ref = ref, e[3]
        else:
            if prev != tail:
                problems.append("LRU list: tail is %d, the walk ends at %d" % (tail, prev))

        extra: list = []
        chained: set = set()
        mask = self.n_buckets - 1
        for bucket in range(self.n_buckets):
            ref = self._get(self.buckets_off + 4 * bucket)
            steps = 0
            while ref:
                if ref in chained or not in_heap(ref) or steps > n_units:
                    problems.append("hash chain %d: bad link to %d" % (bucket, ref))
                    break
                e = _ENT.unpack_from(mm, self.offset(ref))
                if e[4] & mask != bucket:
                    problems.append("hash chain %d: entry %d hashes to another bucket" % (bucket, ref))
                if ref not in seen:
                    problems.append("entry %d is in a hash chain but not in the LRU list" % ref)
                    extra.append(ref)
                chained.add(ref)
                ref = e[1]
                steps += 1
        for ref in order:
            if ref not in chained:
                problems.append("entry %d is in the LRU list but in no hash chain" % ref)
        if count != len(order):
            problems.append("count is %d, the LRU list holds %d" % (count, len(order)))

        inflight = self._get(_O_INFLIGHT) if mm[_O_STATE] == _WRITING else 0
        records: list = []
        keys: set = set()
        for ref in order + extra:
            rec = self._read_entry(ref, used, problems, in_heap)
            if rec is None:
                continue
            if ref == inflight:
                problems.append("entry %d was being written" % ref)
                continue
            if rec[0] in keys:
                problems.append("entry %d repeats a key" % ref)
                continue
            keys.add(rec[0])
            records.append(rec)

        mapped = mm[self.map_off:self.map_off + n_units]
        if mapped != bytes(used):
            problems.append("unit map: %d units marked used, %d owned by entries"
                            % (n_units - mapped.count(0), n_units - used.count(0)))
        if free != used.count(0):
            problems.append("free units: %d recorded, %d counted" % (free, used.count(0)))
        hint = self._get(_O_HINT)
        if hint > n_units or mapped.find(b"\x00", 0, hint) >= 0:
            problems.append("first-fit hint %d is past a free unit" % hint)
        return records, problems

    def _read_entry(self, ref: int, used: bytearray, problems: list, in_heap):
        """One entry's record if it reads back whole (and its units are marked in `used`), else None."""
        mm = self.mm
        off = self.offset(ref)
        units, _hn, _p, _n, h, expires, flags, vtype, kt, klen, vlen = _ENT.unpack_from(mm, off)
        room = units * UNIT
        runs = [(ref, units)]
        if kt not in (K_STR, K_BYTES) or _E_DATA + klen > room or not klen:
            problems.append("entry %d: bad key" % ref)
            return None
        kb = mm[off + _E_DATA:off + _E_DATA + klen]
        if zlib.crc32(kb) != h:
            problems.append("entry %d: hash does not match its key" % ref)
            return None
        if expires != expires or expires < 0:
            problems.append("entry %d: bad expiry" % ref)
            return None
        if vtype == T_LIST:
            if _E_DATA + klen + _LIST_VALUE.size > room:
                problems.append("entry %d: list head does not fit" % ref)
                return None
            head, tail = _LIST_VALUE.unpack_from(mm, off + _E_DATA + klen)
            # The items are read forward from the head; a back link, the tail or the count out of
            # step is a problem to repair but the items still stand (a push or pop cut short).
            items = []
            nodes = set()
            prev, node = 0, head
            while node:
                if node in nodes or not in_heap(node):
                    problems.append("entry %d: list chain broken at %d" % (ref, node))
                    return None
                nodes.add(node)
                nunits, nxt, nprev, itype, ilen = _NODE.unpack_from(mm, self.offset(node))
                if itype not in _ITEM_TYPES or _N_DATA + ilen > nunits * UNIT:
                    problems.append("entry %d: bad list node %d" % (ref, node))
                    return None
                if nprev != prev:
                    problems.append("entry %d: list node %d links back to %d, not %d" % (ref, node, nprev, prev))
                start = self.offset(node) + _N_DATA
                item = mm[start:start + ilen]
                try:
                    decode_value(itype, item)
                except (ValueError, struct.error, UnicodeError):
                    problems.append("entry %d: list node %d does not decode" % (ref, node))
                    return None
                items.append((itype, item))
                runs.append((node, nunits))
                prev, node = node, nxt
            if len(items) != vlen or prev != tail:
                problems.append("entry %d: list of %d items holds %d" % (ref, vlen, len(items)))
            payload: Any = items
        else:
            if vtype not in _VALUE_TYPES or _E_DATA + klen + vlen > room:
                problems.append("entry %d: bad value" % ref)
                return None
            start = off + _E_DATA + klen
            payload = mm[start:start + vlen]
            try:
                decode_value(vtype, payload)
            except (ValueError, struct.error, UnicodeError):
                problems.append("entry %d: value does not decode" % ref)
                return None
        for first, n in runs:
            if any(used[first - 1:first - 1 + n]):
                problems.append("entry %d: its units overlap another entry's" % ref)
                return None
        for first, n in runs:
            used[first - 1:first - 1 + n] = b"\x01" * n
        return kb, kt, vtype, payload, expires, flags

    def recover(self) -> None:
        """Rebuild the zone after a holder of the lock died half way through an operation."""
        try:
            records, problems = self.scan()
        except Exception as exc:  # a zone too broken to read: start empty
            records, problems = [], ["unreadable: %s" % exc]
        if problems:
            self.format()
            kept = 0
            for kb, kt, vtype, payload, expires, flags in reversed(records):  # least recent first
                h = zlib.crc32(kb)
                if vtype == T_LIST:
                    ref = self.create_list(kb, kt, h, expires, flags)
                    ok = bool(ref) and all(self.list_push(ref, itype, item, False) for itype, item in payload)
                else:
                    ok = bool(self.create(kb, kt, h, vtype, payload, expires, flags))
                kept += ok
            log.error(log.ALERT, 'shared dict zone "%s" was left half written by a process that died '
                                 'holding its lock: rebuilt with %d entries (%s%s)'
                      % (self.name, kept, "; ".join(problems[:3]), "; ..." if len(problems) > 3 else ""))
        self.mm[_O_STATE] = 0

    def walk_from_tail(self) -> Iterable[int]:
        """Entry references from the least to the most recently used (read before removing)."""
        ref = self._get(_O_LRU_TAIL)
        while ref:
            prev = self._get(self.offset(ref) + _E_PREV)
            yield ref
            ref = prev

