/*
 * websocket._speedups: optional C helpers for the frame hot path.
 *
 *   apply_mask(data, key) -> bytes
 *       XOR `data` with the 4-byte masking key repeated (RFC 6455 section 5.3);
 *       masking and unmasking are the same operation.  `data` and `key` are
 *       anything with the buffer protocol (bytes, bytearray, memoryview, ...).
 *
 *   parse_header(buf) -> (fin, opcode, masked, payload_len, header_len) or None
 *       Decode the fixed part of a frame header from the start of `buf`:
 *       `fin` and `masked` are bools, `header_len` counts the 2 first bytes,
 *       the extended length and the masking key.  None when `buf` does not
 *       hold the whole header yet.  No rule is checked here (RSV bits,
 *       opcodes, the 64-bit length's top bit): the caller applies them.
 *
 *   parse_whole(buf, have, max_payload_len, state, strict[, force_masking, refuse_masked])
 *           -> (data, typ, err, end) or None
 *       websocket.protocol's frame fast path in C, with the same results as
 *       its pure-Python `_parse_whole`: a final text or binary frame, masked
 *       (the default rules, a server's) or as the two rules allow,
 *       starting a message that lies whole in buf[:have] is unmasked (text
 *       decoded as UTF-8) and returned with its length `end`; anything else
 *       (or a limit given as a non-integer) gives None and the general path
 *       reads it.  Sets `state.received` and `state.decoder` as the Python
 *       version does; invalid UTF-8 gives (None, None, ERR_BAD_TEXT, end).
 *
 *   read_frame(raw, buf, max_payload_len, state, strict, force_masking, refuse_masked)
 *           -> (data, typ, err) | n | None
 *       One recv() of up to 64 KiB from the non-blocking socket `raw` (a
 *       _socket.socket), then parse_whole on what arrived.  A whole simple
 *       frame gives parse_whole's (data, typ, err), and bytes after it are
 *       appended to the bytearray `buf`; otherwise every byte read is
 *       appended to `buf` and their count `n` is returned (0: the peer
 *       closed).  None: nothing to read (EAGAIN).  OSError for a failed recv().
 *
 *   send_frame(raw, first_byte, payload[, key]) -> int
 *       One send()/sendmsg() of a frame (the head built from `first_byte` and
 *       len(payload), then the payload; with a 4-byte `key`, the MASK bit, the
 *       key and the payload masked with it) on the non-blocking socket `raw`:
 *       the count of frame bytes the kernel took (0 on EAGAIN; the caller
 *       sends the rest).  OSError for a failed send.
 *
 *   new_payload(n), put_payload(payload, offset, data, key), recv_payload(raw, payload, offset, key)
 *       A large frame's payload read straight into the bytes object that
 *       carries it, unmasked as it arrives (no zero-filled buffer, no copy).
 *
 * websocket.protocol keeps pure-Python versions of the first five (without the
 * last three, large payloads go through the cosocket's own reads); this module
 * is built only when a C compiler is available (see setup.py).  The socket
 * calls do not release the GIL: the sockets are non-blocking, so the syscall
 * returns at once, and a worker runs one thread.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* XOR n bytes of src with the key into dst, 8 bytes at a time.  Loads and
 * stores go through memcpy, which compilers turn into plain (unaligned) moves,
 * so any alignment of src and dst works. */
static void
mask_bytes(unsigned char *dst, const unsigned char *src, Py_ssize_t n, const unsigned char key[4])
{
    uint64_t key8;
    unsigned char k8[8];
    Py_ssize_t i = 0;

    memcpy(k8, key, 4);
    memcpy(k8 + 4, key, 4);
    memcpy(&key8, k8, 8);

    for (; i + 32 <= n; i += 32) {
        uint64_t a, b, c, d;
        memcpy(&a, src + i, 8);
        memcpy(&b, src + i + 8, 8);
        memcpy(&c, src + i + 16, 8);
        memcpy(&d, src + i + 24, 8);
        a ^= key8; b ^= key8; c ^= key8; d ^= key8;
        memcpy(dst + i, &a, 8);
        memcpy(dst + i + 8, &b, 8);
        memcpy(dst + i + 16, &c, 8);
        memcpy(dst + i + 24, &d, 8);
    }
    for (; i + 8 <= n; i += 8) {
        uint64_t a;
        memcpy(&a, src + i, 8);
        a ^= key8;
        memcpy(dst + i, &a, 8);
    }
    /* i is a multiple of 8 here, so the key phase of the tail starts at 0 */
    for (; i < n; i++)
        dst[i] = src[i] ^ key[i & 3];
}

static PyObject *
speedups_apply_mask(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer data, key;
    PyObject *out;

    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "apply_mask() takes exactly 2 arguments (%zd given)", nargs);
        return NULL;
    }
    if (PyObject_GetBuffer(args[0], &data, PyBUF_SIMPLE) < 0)
        return NULL;
    if (PyObject_GetBuffer(args[1], &key, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&data);
        return NULL;
    }
    if (key.len != 4) {
        PyErr_Format(PyExc_ValueError, "masking key must be 4 bytes, got %zd", key.len);
        out = NULL;
    }
    else {
        out = PyBytes_FromStringAndSize(NULL, data.len);
        if (out != NULL)
            mask_bytes((unsigned char *)PyBytes_AS_STRING(out), (const unsigned char *)data.buf,
                       data.len, (const unsigned char *)key.buf);
    }
    PyBuffer_Release(&key);
    PyBuffer_Release(&data);
    return out;
}

static PyObject *
speedups_parse_header(PyObject *module, PyObject *arg)
{
    Py_buffer view;
    const unsigned char *p;
    Py_ssize_t have, need;
    unsigned long long len;
    int masked;
    PyObject *result;

    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    p = (const unsigned char *)view.buf;
    have = view.len;
    if (have < 2) {
        PyBuffer_Release(&view);
        Py_RETURN_NONE;
    }
    masked = (p[1] & 0x80) != 0;
    len = p[1] & 0x7F;
    need = 2;
    if (len == 126)
        need += 2;
    else if (len == 127)
        need += 8;
    if (masked)
        need += 4;
    if (have < need) {
        PyBuffer_Release(&view);
        Py_RETURN_NONE;
    }
    if (len == 126) {
        len = ((unsigned long long)p[2] << 8) | p[3];
    }
    else if (len == 127) {
        int i;
        len = 0;
        for (i = 2; i < 10; i++)
            len = (len << 8) | p[i];
    }
    result = Py_BuildValue("(NiNKn)", PyBool_FromLong(p[0] & 0x80), p[0] & 0x0F, PyBool_FromLong(masked),
                           len, need);
    PyBuffer_Release(&view);
    return result;
}

static PyObject *str_binary, *str_text, *str_bad_text, *str_received, *str_decoder, *str_max_message_len;

/* MessageState's slots, written and read through their member definitions
 * (what a Python attribute assignment on a __slots__ class does, without the
 * attribute lookup); set up for the first state type seen, any other type
 * goes through PyObject_SetAttr/GetAttr. */
static PyTypeObject *state_type;
static PyMemberDef *m_received, *m_decoder, *m_max_message_len;

static PyMemberDef *
slot_member(PyTypeObject *type, PyObject *name)
{
    PyObject *descr = PyObject_GetAttr((PyObject *)type, name);
    PyMemberDef *m = NULL;
    if (descr == NULL) {
        PyErr_Clear();
        return NULL;
    }
    if (Py_IS_TYPE(descr, &PyMemberDescr_Type)) {
        m = ((PyMemberDescrObject *)descr)->d_member;
        if (m->type != T_OBJECT_EX || (m->flags & READONLY))
            m = NULL;
    }
    Py_DECREF(descr);
    return m;
}

static int
known_state(PyObject *state)
{
    PyTypeObject *type = Py_TYPE(state);
    PyMemberDef *r, *d, *x;
    if (type == state_type)
        return 1;
    if (state_type != NULL)
        return 0;
    r = slot_member(type, str_received);
    d = slot_member(type, str_decoder);
    x = slot_member(type, str_max_message_len);
    if (r == NULL || d == NULL || x == NULL)
        return 0;
    m_received = r;
    m_decoder = d;
    m_max_message_len = x;
    state_type = (PyTypeObject *)Py_NewRef(type);  /* kept: its address is the cache key */
    return 1;
}

static int
state_set(PyObject *state, PyMemberDef **m, PyObject *name, PyObject *value)
{
    if (known_state(state))  /* which sets *m on first use */
        return PyMember_SetOne((char *)state, *m, value);
    return PyObject_SetAttr(state, name, value);
}

/* The descriptor of a raw socket.  CPython's socket object starts with its
 * descriptor (PySocketSockObject in Modules/socketmodule.h: PyObject_HEAD,
 * then SOCKET_T sock_fd); that layout is trusted for one socket type, and
 * only once it gave the same number as fileno() did. */
typedef struct {
    PyObject_HEAD
    int sock_fd;
} socket_head;

static PyTypeObject *fd_type;

static int
raw_fd(PyObject *raw)
{
    int fd;
    if (Py_TYPE(raw) == fd_type) {
        fd = ((socket_head *)raw)->sock_fd;
        if (fd < 0) {  /* closed: what the socket's own recv() says then */
            errno = EBADF;
            PyErr_SetFromErrno(PyExc_OSError);
        }
        return fd;
    }
    fd = PyObject_AsFileDescriptor(raw);
    if (fd < 0 && PyErr_ExceptionMatches(PyExc_ValueError)) {  /* fileno() -1: a closed socket */
        PyErr_Clear();
        errno = EBADF;
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    if (fd >= 0 && fd_type == NULL && !PyLong_Check(raw) && Py_TYPE(raw)->tp_basicsize >= (Py_ssize_t)sizeof(socket_head)
            && ((socket_head *)raw)->sock_fd == fd) {
        PyObject *sock_mod = PyImport_ImportModule("_socket");
        PyObject *sock_type = sock_mod ? PyObject_GetAttrString(sock_mod, "socket") : NULL;
        if (sock_type != NULL && PyType_Check(sock_type)
                && PyType_IsSubtype(Py_TYPE(raw), (PyTypeObject *)sock_type))
            fd_type = (PyTypeObject *)Py_NewRef(Py_TYPE(raw));
        Py_XDECREF(sock_type);
        Py_XDECREF(sock_mod);
        PyErr_Clear();
    }
    return fd;
}

/* An int argument as a limit: -1 (with no error set) when it is not an exact int or does not fit. */
static Py_ssize_t
limit_value(PyObject *obj)
{
    Py_ssize_t v;
    if (!PyLong_CheckExact(obj))
        return -1;
    v = PyLong_AsSsize_t(obj);
    if (v == -1 && PyErr_Occurred()) {
        /* too big either way: a huge limit is no limit, a huge negative one declines */
        PyObject *zero = PyLong_FromLong(0);
        int negative;
        PyErr_Clear();
        if (zero == NULL) {
            PyErr_Clear();
            return -1;
        }
        negative = PyObject_RichCompareBool(obj, zero, Py_LT);
        Py_DECREF(zero);
        if (negative != 0) {
            PyErr_Clear();
            return -1;
        }
        return PY_SSIZE_T_MAX;
    }
    return v;
}

/* The frame limit parse_whole applies: max_payload_len, and in strict mode
 * state.max_message_len too.  -1 (no error set) declines: a limit that is not
 * an exact int; -2 with an exception set. */
static Py_ssize_t
frame_limit(PyObject *max_payload_len, PyObject *state, PyObject *strict)
{
    Py_ssize_t limit = limit_value(max_payload_len);
    int is_strict;
    if (limit < 0)
        return -1;
    is_strict = PyObject_IsTrue(strict);
    if (is_strict < 0)
        return -2;
    if (is_strict) {
        PyObject *mml = known_state(state) ? PyMember_GetOne((const char *)state, m_max_message_len)
                                           : PyObject_GetAttr(state, str_max_message_len);
        Py_ssize_t message_limit;
        if (mml == NULL)
            return -2;
        message_limit = limit_value(mml);
        Py_DECREF(mml);
        if (message_limit < 0)
            return -1;
        if (message_limit < limit)
            limit = message_limit;
    }
    return limit;
}

/* parse_whole on p[:have]: NULL with *end = 0 and no error when declined,
 * NULL with an error set on failure, else the 3-tuple (data, typ, err) and
 * the frame's length in *end. */
static PyObject *
parse_at(const unsigned char *p, Py_ssize_t have, Py_ssize_t limit, PyObject *state,
         int force_masking, int refuse_masked, Py_ssize_t *end)
{
    Py_ssize_t head, plen;
    PyObject *payload, *data, *typ, *err, *result, *received;
    unsigned char fst;
    int masked;

    *end = 0;
    if (have < 2)
        return NULL;
    fst = p[0];
    masked = p[1] >= 0x80;
    /* FIN set, RSV clear, opcode text (1) or binary (2), the MASK bit the reader's rules allow */
    if ((fst != 0x82 && fst != 0x81) || (masked ? refuse_masked : force_masking))
        return NULL;
    plen = p[1] & 0x7F;
    head = masked ? 6 : 2;
    if (plen == 126) {
        head += 2;
        if (have < head)
            return NULL;
        plen = ((Py_ssize_t)p[2] << 8) | p[3];
    }
    else if (plen == 127)
        return NULL;
    if (have < head + plen || plen > limit)
        return NULL;

    payload = PyBytes_FromStringAndSize(NULL, plen);
    if (payload == NULL)
        return NULL;
    if (masked)
        mask_bytes((unsigned char *)PyBytes_AS_STRING(payload), p + head, plen, p + head - 4);
    else
        memcpy(PyBytes_AS_STRING(payload), p + head, plen);

    received = PyLong_FromSsize_t(plen);
    if (received == NULL || state_set(state, &m_received, str_received, received) < 0
            || state_set(state, &m_decoder, str_decoder, Py_None) < 0) {
        Py_XDECREF(received);
        Py_DECREF(payload);
        return NULL;
    }
    Py_DECREF(received);
    if (fst == 0x82) {
        data = payload;
        typ = str_binary;
        err = Py_None;
    }
    else {
        data = PyUnicode_DecodeUTF8(PyBytes_AS_STRING(payload), plen, "strict");
        Py_DECREF(payload);
        if (data != NULL) {
            typ = str_text;
            err = Py_None;
        }
        else if (PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
            PyErr_Clear();
            data = Py_NewRef(Py_None);
            typ = Py_None;
            err = str_bad_text;
        }
        else
            return NULL;
    }
    result = PyTuple_New(3);
    if (result == NULL) {
        Py_DECREF(data);
        return NULL;
    }
    PyTuple_SET_ITEM(result, 0, data);
    PyTuple_SET_ITEM(result, 1, Py_NewRef(typ));
    PyTuple_SET_ITEM(result, 2, Py_NewRef(err));
    *end = head + plen;
    return result;
}

static PyObject *
speedups_parse_whole(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer view;
    Py_ssize_t have, limit, end;
    PyObject *frame, *result, *end_obj;
    int force_masking = 1, refuse_masked = 0;

    if (nargs != 5 && nargs != 7) {
        PyErr_Format(PyExc_TypeError, "parse_whole() takes 5 or 7 arguments (%zd given)", nargs);
        return NULL;
    }
    if (nargs == 7) {
        force_masking = PyObject_IsTrue(args[5]);
        refuse_masked = PyObject_IsTrue(args[6]);
        if (force_masking < 0 || refuse_masked < 0)
            return NULL;
    }
    have = PyLong_AsSsize_t(args[1]);
    if (have == -1 && PyErr_Occurred())
        return NULL;
    if (have < 2)
        Py_RETURN_NONE;
    limit = frame_limit(args[2], args[3], args[4]);
    if (limit == -2)
        return NULL;
    if (limit < 0)
        Py_RETURN_NONE;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0)
        return NULL;
    if (have > view.len)
        have = view.len;
    frame = parse_at((const unsigned char *)view.buf, have, limit, args[3], force_masking, refuse_masked, &end);
    PyBuffer_Release(&view);
    if (frame == NULL) {
        if (PyErr_Occurred())
            return NULL;
        Py_RETURN_NONE;
    }
    end_obj = PyLong_FromSsize_t(end);
    result = end_obj == NULL ? NULL : PyTuple_New(4);
    if (result == NULL) {
        Py_XDECREF(end_obj);
        Py_DECREF(frame);
        return NULL;
    }
    PyTuple_SET_ITEM(result, 0, Py_NewRef(PyTuple_GET_ITEM(frame, 0)));
    PyTuple_SET_ITEM(result, 1, Py_NewRef(PyTuple_GET_ITEM(frame, 1)));
    PyTuple_SET_ITEM(result, 2, Py_NewRef(PyTuple_GET_ITEM(frame, 2)));
    PyTuple_SET_ITEM(result, 3, end_obj);
    Py_DECREF(frame);
    return result;
}

/* Append n bytes at p to the bytearray buf. */
static int
bytearray_append(PyObject *buf, const unsigned char *p, Py_ssize_t n)
{
    Py_ssize_t old;
    if (n <= 0)
        return 0;
    old = PyByteArray_GET_SIZE(buf);
    if (PyByteArray_Resize(buf, old + n) < 0)
        return -1;
    memcpy(PyByteArray_AS_STRING(buf) + old, p, n);
    return 0;
}

/* read_frame's receive buffer: one for the process is enough, as nothing
 * releases the GIL between the recv() that fills it and the parse that
 * empties it (what the frame leaves is copied out before returning). */
static unsigned char scratch[65536];

static PyObject *
speedups_read_frame(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t limit, end, n;
    PyObject *frame;
    int fd, force_masking, refuse_masked;

    if (nargs != 7) {
        PyErr_Format(PyExc_TypeError, "read_frame() takes exactly 7 arguments (%zd given)", nargs);
        return NULL;
    }
    if (!PyByteArray_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "read_frame(): buf must be a bytearray");
        return NULL;
    }
    fd = raw_fd(args[0]);
    if (fd < 0)
        return NULL;
    limit = frame_limit(args[2], args[3], args[4]);
    if (limit == -2)
        return NULL;
    force_masking = PyObject_IsTrue(args[5]);
    refuse_masked = PyObject_IsTrue(args[6]);
    if (force_masking < 0 || refuse_masked < 0)
        return NULL;
    for (;;) {
        n = recv(fd, scratch, sizeof(scratch), 0);
        if (n >= 0)
            break;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            Py_RETURN_NONE;
        if (errno != EINTR || PyErr_CheckSignals() < 0) {
            if (!PyErr_Occurred())
                PyErr_SetFromErrno(PyExc_OSError);
            return NULL;
        }
    }
    frame = NULL;
    end = 0;
    if (limit >= 0) {
        frame = parse_at(scratch, n, limit, args[3], force_masking, refuse_masked, &end);
        if (frame == NULL && PyErr_Occurred()) {
            /* keep the bytes for whoever reads next, then report the failure */
            PyObject *type, *value, *tb;
            PyErr_Fetch(&type, &value, &tb);
            if (bytearray_append(args[1], scratch, n) < 0)
                PyErr_Clear();
            PyErr_Restore(type, value, tb);
            return NULL;
        }
    }
    /* what the frame did not consume (everything, when there was no whole frame) */
    if (bytearray_append(args[1], scratch + end, n - end) < 0) {
        Py_XDECREF(frame);
        return NULL;
    }
    if (frame != NULL)
        return frame;
    return PyLong_FromSsize_t(n);
}

/* The head of an unmasked frame of n payload bytes: its length (2, 4 or 10). */
static int
frame_head(unsigned char *head, unsigned char first_byte, Py_ssize_t n)
{
    head[0] = first_byte;
    if (n < 126) {
        head[1] = (unsigned char)n;
        return 2;
    }
    if (n <= 0xFFFF) {
        head[1] = 126;
        head[2] = (unsigned char)(n >> 8);
        head[3] = (unsigned char)n;
        return 4;
    }
    head[1] = 127;
    for (int i = 9; i >= 2; i--) {
        head[i] = (unsigned char)n;
        n >>= 8;
    }
    return 10;
}

/* Frames up to this size are copied into one stack buffer and sent with send(). */
#define SMALL_FRAME 4096

static PyObject *
speedups_send_frame(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer payload, key;
    unsigned char head[14];
    unsigned char small[SMALL_FRAME];
    unsigned char *masked = NULL;
    const unsigned char *body;
    long first_byte;
    Py_ssize_t sent, total;
    int fd, hlen;

    if (nargs != 3 && nargs != 4) {
        PyErr_Format(PyExc_TypeError, "send_frame() takes 3 or 4 arguments (%zd given)", nargs);
        return NULL;
    }
    fd = raw_fd(args[0]);
    if (fd < 0)
        return NULL;
    first_byte = PyLong_AsLong(args[1]);
    if (first_byte == -1 && PyErr_Occurred())
        return NULL;
    if (first_byte < 0 || first_byte > 0xFF) {
        PyErr_SetString(PyExc_ValueError, "send_frame(): first_byte must be 0..255");
        return NULL;
    }
    if (PyObject_GetBuffer(args[2], &payload, PyBUF_SIMPLE) < 0)
        return NULL;
    hlen = frame_head(head, (unsigned char)first_byte, payload.len);
    body = (const unsigned char *)payload.buf;
    if (nargs == 4 && args[3] != Py_None) {
        /* a client's frame: MASK bit, the key after the head, the payload masked with it */
        if (PyObject_GetBuffer(args[3], &key, PyBUF_SIMPLE) < 0) {
            PyBuffer_Release(&payload);
            return NULL;
        }
        if (key.len != 4) {
            PyErr_Format(PyExc_ValueError, "masking key must be 4 bytes, got %zd", key.len);
            PyBuffer_Release(&key);
            PyBuffer_Release(&payload);
            return NULL;
        }
        head[1] |= 0x80;
        memcpy(head + hlen, key.buf, 4);
        hlen += 4;
        if (hlen + payload.len <= SMALL_FRAME)
            masked = small + hlen;
        else if ((masked = PyMem_Malloc(payload.len ? payload.len : 1)) == NULL) {
            PyBuffer_Release(&key);
            PyBuffer_Release(&payload);
            return PyErr_NoMemory();
        }
        mask_bytes(masked, body, payload.len, (const unsigned char *)key.buf);
        body = masked;
        PyBuffer_Release(&key);
    }
    total = hlen + payload.len;
    for (;;) {
        if (total <= SMALL_FRAME) {
            memcpy(small, head, hlen);
            if (body != small + hlen)
                memcpy(small + hlen, body, payload.len);
            sent = send(fd, small, (size_t)total, MSG_NOSIGNAL);
        }
        else {
            struct iovec iov[2];
            struct msghdr msg;
            memset(&msg, 0, sizeof(msg));
            iov[0].iov_base = head;
            iov[0].iov_len = hlen;
            iov[1].iov_base = (void *)body;
            iov[1].iov_len = payload.len;
            msg.msg_iov = iov;
            msg.msg_iovlen = 2;
            sent = sendmsg(fd, &msg, MSG_NOSIGNAL);
        }
        if (sent >= 0)
            break;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            sent = 0;
            break;
        }
        if (errno != EINTR || PyErr_CheckSignals() < 0) {
            if (!PyErr_Occurred())
                PyErr_SetFromErrno(PyExc_OSError);
            sent = -1;
            break;
        }
    }
    if (masked != NULL && masked != small + hlen)
        PyMem_Free(masked);
    PyBuffer_Release(&payload);
    return sent < 0 ? NULL : PyLong_FromSsize_t(sent);
}

/* ---- large payloads, read straight into the bytes object that will carry them ----
 * new_payload(n) makes an uninitialised bytes object; put_payload and
 * recv_payload fill it (unmasking what they write, at its key phase).  The
 * object must not be shared (hashed, stored, returned) before it is full:
 * websocket.protocol keeps it in one local until then. */

static int
payload_target(PyObject *payload, PyObject *offset_obj, Py_ssize_t *offset)
{
    if (!PyBytes_CheckExact(payload)) {
        PyErr_SetString(PyExc_TypeError, "payload must be bytes from new_payload()");
        return -1;
    }
    *offset = PyLong_AsSsize_t(offset_obj);
    if (*offset == -1 && PyErr_Occurred())
        return -1;
    if (*offset < 0 || *offset > PyBytes_GET_SIZE(payload)) {
        PyErr_SetString(PyExc_ValueError, "offset out of range");
        return -1;
    }
    return 0;
}

/* XOR p[0:n] in place with the key, starting at key phase `phase`. */
static void
unmask_at(unsigned char *p, Py_ssize_t n, const unsigned char *key, Py_ssize_t phase)
{
    unsigned char rotated[4];
    Py_ssize_t i;
    for (i = 0; i < 4; i++)
        rotated[i] = key[(phase + i) & 3];
    mask_bytes(p, p, n, rotated);
}

static int
key_arg(PyObject *obj, Py_buffer *key)
{
    if (obj == Py_None)
        return 0;
    if (PyObject_GetBuffer(obj, key, PyBUF_SIMPLE) < 0)
        return -1;
    if (key->len != 4) {
        PyErr_Format(PyExc_ValueError, "masking key must be 4 bytes, got %zd", key->len);
        PyBuffer_Release(key);
        return -1;
    }
    return 1;
}

static PyObject *
speedups_new_payload(PyObject *module, PyObject *arg)
{
    Py_ssize_t n = PyLong_AsSsize_t(arg);
    if (n == -1 && PyErr_Occurred())
        return NULL;
    if (n < 0) {
        PyErr_SetString(PyExc_ValueError, "negative size");
        return NULL;
    }
    return PyBytes_FromStringAndSize(NULL, n);
}

static PyObject *
speedups_put_payload(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer data, key;
    Py_ssize_t offset, n;
    unsigned char *dst;
    int has_key;

    if (nargs != 4) {
        PyErr_Format(PyExc_TypeError, "put_payload() takes exactly 4 arguments (%zd given)", nargs);
        return NULL;
    }
    if (payload_target(args[0], args[1], &offset) < 0)
        return NULL;
    if ((has_key = key_arg(args[3], &key)) < 0)
        return NULL;
    if (PyObject_GetBuffer(args[2], &data, PyBUF_SIMPLE) < 0) {
        if (has_key)
            PyBuffer_Release(&key);
        return NULL;
    }
    n = data.len;
    if (n > PyBytes_GET_SIZE(args[0]) - offset)
        n = PyBytes_GET_SIZE(args[0]) - offset;
    dst = (unsigned char *)PyBytes_AS_STRING(args[0]) + offset;
    memcpy(dst, data.buf, n);
    if (has_key) {
        unmask_at(dst, n, (const unsigned char *)key.buf, offset);
        PyBuffer_Release(&key);
    }
    PyBuffer_Release(&data);
    return PyLong_FromSsize_t(n);
}

static PyObject *
speedups_recv_payload(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer key;
    Py_ssize_t offset, n;
    unsigned char *dst;
    int fd, has_key;

    if (nargs != 4) {
        PyErr_Format(PyExc_TypeError, "recv_payload() takes exactly 4 arguments (%zd given)", nargs);
        return NULL;
    }
    fd = raw_fd(args[0]);
    if (fd < 0)
        return NULL;
    if (payload_target(args[1], args[2], &offset) < 0)
        return NULL;
    if ((has_key = key_arg(args[3], &key)) < 0)
        return NULL;
    dst = (unsigned char *)PyBytes_AS_STRING(args[1]) + offset;
    for (;;) {
        n = recv(fd, dst, (size_t)(PyBytes_GET_SIZE(args[1]) - offset), 0);
        if (n >= 0)
            break;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (has_key)
                PyBuffer_Release(&key);
            Py_RETURN_NONE;
        }
        if (errno != EINTR || PyErr_CheckSignals() < 0) {
            if (!PyErr_Occurred())
                PyErr_SetFromErrno(PyExc_OSError);
            if (has_key)
                PyBuffer_Release(&key);
            return NULL;
        }
    }
    if (has_key) {
        unmask_at(dst, n, (const unsigned char *)key.buf, offset);  /* while it is in the cache */
        PyBuffer_Release(&key);
    }
    return PyLong_FromSsize_t(n);
}

static PyMethodDef speedups_methods[] = {
    {"apply_mask", (PyCFunction)(void (*)(void))speedups_apply_mask, METH_FASTCALL,
     "apply_mask(data, key) -> bytes\n\nXOR data with the 4-byte masking key repeated."},
    {"parse_header", (PyCFunction)speedups_parse_header, METH_O,
     "parse_header(buf) -> (fin, opcode, masked, payload_len, header_len) or None\n\n"
     "The frame header at the start of buf, or None while it is incomplete."},
    {"parse_whole", (PyCFunction)(void (*)(void))speedups_parse_whole, METH_FASTCALL,
     "parse_whole(buf, have, max_payload_len, state, strict[, force_masking, refuse_masked]) -> (data, typ, err, end) or None\n\n"
     "A whole final text/binary frame starting a message at the start of buf[:have]."},
    {"read_frame", (PyCFunction)(void (*)(void))speedups_read_frame, METH_FASTCALL,
     "read_frame(raw, buf, max_payload_len, state, strict, force_masking, refuse_masked) -> (data, typ, err) | n | None\n\n"
     "One recv() and parse_whole on what came; unconsumed bytes are appended to buf."},
    {"send_frame", (PyCFunction)(void (*)(void))speedups_send_frame, METH_FASTCALL,
     "send_frame(raw, first_byte, payload[, key]) -> int\n\n"
     "One send of a frame (masked with key when given); the count of frame bytes the kernel took (0 on EAGAIN)."},
    {"new_payload", (PyCFunction)speedups_new_payload, METH_O,
     "new_payload(n) -> bytes\n\nAn uninitialised bytes object of n bytes, for put_payload/recv_payload to fill."},
    {"put_payload", (PyCFunction)(void (*)(void))speedups_put_payload, METH_FASTCALL,
     "put_payload(payload, offset, data, key) -> int\n\n"
     "Copy data into payload at offset (unmasked with key unless None): the count copied."},
    {"recv_payload", (PyCFunction)(void (*)(void))speedups_recv_payload, METH_FASTCALL,
     "recv_payload(raw, payload, offset, key) -> int | None\n\n"
     "One recv() into payload[offset:] (unmasked with key unless None): the count, 0 at EOF, None on EAGAIN."},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    "websocket._speedups",
    "Optional C helpers for WebSocket frames (masking, header parsing, the whole-frame fast path, frame I/O).",
    0,
    speedups_methods,
    NULL, NULL, NULL, NULL
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    str_binary = PyUnicode_InternFromString("binary");
    str_text = PyUnicode_InternFromString("text");
    str_bad_text = PyUnicode_InternFromString("invalid UTF-8 text payload");
    str_received = PyUnicode_InternFromString("received");
    str_decoder = PyUnicode_InternFromString("decoder");
    str_max_message_len = PyUnicode_InternFromString("max_message_len");
    if (!str_binary || !str_text || !str_bad_text || !str_received || !str_decoder || !str_max_message_len)
        return NULL;
    return PyModuleDef_Init(&speedups_module);
}
