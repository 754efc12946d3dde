/*
 * websocket._speedups: the frame hot path in C, as pure functions over buffers.
 *
 *   apply_mask(data, key) -> bytes
 *       XOR `data` with the 4-byte masking key repeated (RFC 6455 section 5.3);
 *       masking and unmasking are the same operation.  `data` and `key` are
 *       anything with the buffer protocol (bytes, bytearray, memoryview, ...).
 *
 *   parse(buf, have, limit, rules) -> None | int | (first_byte, payload, end, payload_len, key)
 *       The frame at the start of buf[:have]: websocket.frames.parse, with the
 *       same arguments and results (see there).
 *
 *   recv_parse(fd, buf, limit, rules) -> (count, parse result) | (0, None) | (-errno, None)
 *   send_frame(fd, first_byte, payload) -> count | -errno
 *       The direct reads and writes of websocket.direct (see there): one
 *       recv(2) / send(2) or sendmsg(2) on a file descriptor, never blocking,
 *       the GIL kept (the call cannot wait); failures come back as errno
 *       numbers, never as Python errors or strings.
 *
 * websocket.frames and websocket.direct keep the pure-Python twins and are the
 * reference; the tests run every test of these functions on both.  No state
 * outside the call: no static buffers, nothing known of Python's socket
 * objects or of Python classes (a file descriptor is an int).  Built only when a C compiler
 * is available (see setup.py).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* send_frame joins head and payload below this size (one send() of a stack copy), sendmsg from it on */
#define SEND_JOIN_MAX 4096

#define MASK_REQUIRED 1
#define MASK_REFUSED 2
#define RSV1_ALLOWED 4

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

/* (first_byte, payload, end, payload_len, key), built directly (no format string to parse) */
static PyObject *
frame_tuple(int fst, PyObject *payload, Py_ssize_t end, unsigned long long plen, PyObject *key)
{
    PyObject *t = PyTuple_New(5), *item;
    if (t == NULL)
        return NULL;
    if ((item = PyLong_FromLong(fst)) == NULL)
        goto fail;
    PyTuple_SET_ITEM(t, 0, item);
    Py_INCREF(payload);
    PyTuple_SET_ITEM(t, 1, payload);
    if ((item = PyLong_FromSsize_t(end)) == NULL)
        goto fail;
    PyTuple_SET_ITEM(t, 2, item);
    if ((item = PyLong_FromUnsignedLongLong(plen)) == NULL)
        goto fail;
    PyTuple_SET_ITEM(t, 3, item);
    Py_INCREF(key);
    PyTuple_SET_ITEM(t, 4, key);
    return t;
fail:
    Py_DECREF(t);
    return NULL;
}

/* The frame at the start of p[:have]: None (need more), the violation's number, or the frame tuple. */
static PyObject *
parse_buf(const unsigned char *p, Py_ssize_t have, long long limit, long rules)
{
    Py_ssize_t head;
    unsigned long long plen;
    int fst, opcode, masked, violation = 0;
    PyObject *payload = NULL, *key = NULL, *result = NULL;

    if (have < 2)
        goto need_more;
    fst = p[0];
    if (fst & ((rules & RSV1_ALLOWED) ? 0x30 : 0x70)) { violation = 1; goto refused; }
    opcode = fst & 0x0F;
    if (opcode >= 0x3 && opcode <= 0x7) { violation = 2; goto refused; }
    if (opcode >= 0xB) { violation = 3; goto refused; }
    masked = p[1] & 0x80;
    if (!masked) {
        if (rules & MASK_REQUIRED) { violation = 4; goto refused; }
    }
    else if (rules & MASK_REFUSED) { violation = 5; goto refused; }
    plen = p[1] & 0x7F;
    head = 2;
    if (plen == 126) {
        head = 4;
        if (have < 4)
            goto need_more;
        plen = ((unsigned long long)p[2] << 8) | p[3];
    }
    else if (plen == 127) {
        int i;
        head = 10;
        if (have < 10)
            goto need_more;
        if (p[2] & 0x80) { violation = 6; goto refused; }
        plen = 0;
        for (i = 2; i < 10; i++)
            plen = (plen << 8) | p[i];
    }
    if (masked) {
        head += 4;
        if (have < head)
            goto need_more;
    }
    if (opcode & 0x8) {
        if (plen > 125) { violation = 7; goto refused; }
        if (!(fst & 0x80)) { violation = 8; goto refused; }
    }
    if (limit < 0 || plen > (unsigned long long)limit) { violation = 9; goto refused; }
    if ((unsigned long long)(have - head) < plen) {
        payload = Py_None;
        Py_INCREF(payload);
        if (masked) {
            key = PyBytes_FromStringAndSize((const char *)p + head - 4, 4);
            if (key == NULL)
                goto done;
        }
        else {
            key = Py_None;
            Py_INCREF(key);
        }
    }
    else {
        key = masked ? Py_True : Py_None;  /* the payload comes unmasked: only the mask bit is left to tell */
        Py_INCREF(key);
        payload = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)plen);
        if (payload == NULL)
            goto done;
        if (masked)
            mask_bytes((unsigned char *)PyBytes_AS_STRING(payload), p + head, (Py_ssize_t)plen, p + head - 4);
        else
            memcpy(PyBytes_AS_STRING(payload), p + head, (size_t)plen);
        head += (Py_ssize_t)plen;  /* the frame's end */
    }
    result = frame_tuple(fst, payload, head, plen, key);
    goto done;

need_more:
    Py_RETURN_NONE;
refused:
    return PyLong_FromLong(violation);
done:
    Py_XDECREF(payload);
    Py_XDECREF(key);
    return result;
}

/* have, limit and rules from args[1..3] */
static int
parse_args(PyObject *const *args, Py_ssize_t *have, long long *limit, long *rules)
{
    if (have != NULL) {
        *have = PyLong_AsSsize_t(args[1]);
        if (*have == -1 && PyErr_Occurred())
            return -1;
    }
    *limit = PyLong_AsLongLong(args[2]);
    if (*limit == -1 && PyErr_Occurred())
        return -1;
    *rules = PyLong_AsLong(args[3]);
    if (*rules == -1 && PyErr_Occurred())
        return -1;
    return 0;
}

static PyObject *
speedups_parse(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer view;
    Py_ssize_t have;
    long long limit;
    long rules;
    PyObject *result;

    if (nargs != 4) {
        PyErr_Format(PyExc_TypeError, "parse() takes exactly 4 arguments (%zd given)", nargs);
        return NULL;
    }
    if (parse_args(args, &have, &limit, &rules) < 0)
        return NULL;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0)
        return NULL;
    if (have > view.len || have < 0) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "have is beyond the buffer");
        return NULL;
    }
    result = parse_buf((const unsigned char *)view.buf, have, limit, rules);
    PyBuffer_Release(&view);
    return result;
}

/* One recv(2) that never blocks and never raises for the socket's own failures (EINTR retried). */
static PyObject *
speedups_recv_parse(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer view;
    long long limit;
    long rules;
    int fd;
    ssize_t n;
    PyObject *frame, *result;

    if (nargs != 4) {
        PyErr_Format(PyExc_TypeError, "recv_parse() takes exactly 4 arguments (%zd given)", nargs);
        return NULL;
    }
    fd = _PyLong_AsInt(args[0]);
    if (fd == -1 && PyErr_Occurred())
        return NULL;
    if (parse_args(args, NULL, &limit, &rules) < 0)
        return NULL;
    if (PyByteArray_CheckExact(args[1])) {  /* the usual scratch buffer: no export (the GIL is kept) */
        view.obj = NULL;
        view.buf = PyByteArray_AS_STRING(args[1]);
        view.len = PyByteArray_GET_SIZE(args[1]);
    }
    else if (PyObject_GetBuffer(args[1], &view, PyBUF_WRITABLE) < 0)
        return NULL;
    do
        n = recv(fd, view.buf, (size_t)view.len, MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n <= 0) {
        if (view.obj != NULL)
            PyBuffer_Release(&view);
        if (n < 0)
            n = -(ssize_t)errno;
        Py_INCREF(Py_None);
        frame = Py_None;
    }
    else {
        frame = parse_buf((const unsigned char *)view.buf, (Py_ssize_t)n, limit, rules);
        if (view.obj != NULL)
            PyBuffer_Release(&view);
        if (frame == NULL)
            return NULL;
    }
    result = PyTuple_New(2);
    if (result == NULL) {
        Py_DECREF(frame);
        return NULL;
    }
    PyTuple_SET_ITEM(result, 0, PyLong_FromSsize_t((Py_ssize_t)n));
    if (PyTuple_GET_ITEM(result, 0) == NULL) {
        Py_DECREF(frame);
        Py_DECREF(result);
        return NULL;
    }
    PyTuple_SET_ITEM(result, 1, frame);
    return result;
}

static PyObject *
speedups_send_frame(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer payload;
    unsigned char head[10];
    size_t hlen;
    long first;
    int fd;
    ssize_t sent;
    unsigned long long n;

    if (nargs != 3) {
        PyErr_Format(PyExc_TypeError, "send_frame() takes exactly 3 arguments (%zd given)", nargs);
        return NULL;
    }
    fd = _PyLong_AsInt(args[0]);
    if (fd == -1 && PyErr_Occurred())
        return NULL;
    first = PyLong_AsLong(args[1]);
    if (first == -1 && PyErr_Occurred())
        return NULL;
    if (first < 0 || first > 0xFF) {
        PyErr_SetString(PyExc_ValueError, "first byte out of range");
        return NULL;
    }
    if (PyBytes_CheckExact(args[2])) {  /* the usual payload: no buffer export needed */
        payload.obj = NULL;
        payload.buf = PyBytes_AS_STRING(args[2]);
        payload.len = PyBytes_GET_SIZE(args[2]);
    }
    else if (PyObject_GetBuffer(args[2], &payload, PyBUF_SIMPLE) < 0)
        return NULL;
    n = (unsigned long long)payload.len;
    head[0] = (unsigned char)first;
    if (n < 126) {
        head[1] = (unsigned char)n;
        hlen = 2;
    }
    else if (n <= 0xFFFF) {
        head[1] = 126;
        head[2] = (unsigned char)(n >> 8);
        head[3] = (unsigned char)n;
        hlen = 4;
    }
    else {
        int i;
        head[1] = 127;
        for (i = 0; i < 8; i++)
            head[2 + i] = (unsigned char)(n >> (56 - 8 * i));
        hlen = 10;
    }
    if (n < SEND_JOIN_MAX) {
        /* small: one send() of head and payload joined on the stack */
        unsigned char small[SEND_JOIN_MAX + 10];
        memcpy(small, head, hlen);
        memcpy(small + hlen, payload.buf, (size_t)n);
        do
            sent = send(fd, small, hlen + (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
        while (sent < 0 && errno == EINTR);
    }
    else {
        struct iovec iov[2];
        struct msghdr msg;
        memset(&msg, 0, sizeof(msg));
        iov[0].iov_base = head;
        iov[0].iov_len = hlen;
        iov[1].iov_base = payload.buf;
        iov[1].iov_len = (size_t)n;
        msg.msg_iov = iov;
        msg.msg_iovlen = 2;
        do
            sent = sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
        while (sent < 0 && errno == EINTR);
    }
    if (payload.obj != NULL)
        PyBuffer_Release(&payload);
    if (sent < 0)
        return PyLong_FromLong((errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -(long)errno);
    return PyLong_FromSsize_t((Py_ssize_t)sent);
}

static PyMethodDef speedups_methods[] = {
    {"apply_mask", (PyCFunction)(void (*)(void))speedups_apply_mask, METH_FASTCALL,
     "apply_mask(data, key) -> bytes: XOR data with the 4-byte key repeated."},
    {"parse", (PyCFunction)(void (*)(void))speedups_parse, METH_FASTCALL,
     "parse(buf, have, limit, rules) -> None | violation | (first_byte, payload, end, payload_len, key)."},
    {"recv_parse", (PyCFunction)(void (*)(void))speedups_recv_parse, METH_FASTCALL,
     "recv_parse(fd, buf, limit, rules) -> (count, parse(buf, count, limit, rules)) | (0, None) (end of stream) | (-errno, None)."},
    {"send_frame", (PyCFunction)(void (*)(void))speedups_send_frame, METH_FASTCALL,
     "send_frame(fd, first_byte, payload) -> bytes taken (0: would block) | -errno: one unmasked frame, one call."},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    "websocket._speedups",
    "The frame hot path in C: masking and the frame parse, pure functions over buffers.",
    0,
    speedups_methods,
    NULL, NULL, NULL, NULL
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModuleDef_Init(&speedups_module);
}
