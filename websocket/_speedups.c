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
 *   parse_whole(buf, have, max_payload_len, state, strict) -> (data, typ, err, end) or None
 *       websocket.protocol's frame fast path in C, with the same results as
 *       its pure-Python `_parse_whole`: a final, masked text or binary frame
 *       starting a message that lies whole in buf[:have] is unmasked (text
 *       decoded as UTF-8) and returned with its length `end`; anything else
 *       (or a limit given as a non-integer) gives None and the general path
 *       reads it.  Sets `state.received` and `state.decoder` as the Python
 *       version does; invalid UTF-8 gives (None, None, ERR_BAD_TEXT, end).
 *
 * websocket.protocol keeps pure-Python versions of all three; this module is
 * built only when a C compiler is available (see setup.py).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

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

static PyObject *
speedups_parse_whole(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer view;
    const unsigned char *p;
    Py_ssize_t have, limit, head, plen, end;
    PyObject *payload, *data, *typ, *err, *result, *received;
    unsigned char fst;

    if (nargs != 5) {
        PyErr_Format(PyExc_TypeError, "parse_whole() takes exactly 5 arguments (%zd given)", nargs);
        return NULL;
    }
    have = PyLong_AsSsize_t(args[1]);
    if (have == -1 && PyErr_Occurred())
        return NULL;
    if (have < 6)
        Py_RETURN_NONE;
    limit = limit_value(args[2]);
    if (limit < 0)
        Py_RETURN_NONE;
    if (PyObject_IsTrue(args[4])) {
        PyObject *mml = PyObject_GetAttr(args[3], str_max_message_len);
        Py_ssize_t message_limit;
        if (mml == NULL)
            return NULL;
        message_limit = limit_value(mml);
        Py_DECREF(mml);
        if (message_limit < 0)
            Py_RETURN_NONE;
        if (message_limit < limit)
            limit = message_limit;
    }
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0)
        return NULL;
    if (have > view.len)
        have = view.len;
    p = (const unsigned char *)view.buf;
    fst = p[0];
    /* FIN set, RSV clear, opcode text (1) or binary (2), MASK set */
    if ((fst != 0x82 && fst != 0x81) || p[1] < 0x80 || have < 6)
        goto decline;
    plen = p[1] & 0x7F;
    if (plen < 126)
        head = 6;
    else if (plen == 126) {
        if (have < 8)
            goto decline;
        head = 8;
        plen = ((Py_ssize_t)p[2] << 8) | p[3];
    }
    else
        goto decline;
    end = head + plen;
    if (have < end || plen > limit)
        goto decline;

    payload = PyBytes_FromStringAndSize(NULL, plen);
    if (payload == NULL)
        goto fail;
    mask_bytes((unsigned char *)PyBytes_AS_STRING(payload), p + head, plen, p + head - 4);
    PyBuffer_Release(&view);

    received = PyLong_FromSsize_t(plen);
    if (received == NULL || PyObject_SetAttr(args[3], str_received, received) < 0
            || PyObject_SetAttr(args[3], str_decoder, Py_None) < 0) {
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
    result = PyTuple_New(4);
    if (result == NULL) {
        Py_DECREF(data);
        return NULL;
    }
    PyTuple_SET_ITEM(result, 0, data);
    PyTuple_SET_ITEM(result, 1, Py_NewRef(typ));
    PyTuple_SET_ITEM(result, 2, Py_NewRef(err));
    PyTuple_SET_ITEM(result, 3, PyLong_FromSsize_t(end));
    if (PyTuple_GET_ITEM(result, 3) == NULL) {
        Py_DECREF(result);
        return NULL;
    }
    return result;

decline:
    PyBuffer_Release(&view);
    Py_RETURN_NONE;
fail:
    PyBuffer_Release(&view);
    return NULL;
}

static PyMethodDef speedups_methods[] = {
    {"apply_mask", (PyCFunction)(void (*)(void))speedups_apply_mask, METH_FASTCALL,
     "apply_mask(data, key) -> bytes\n\nXOR data with the 4-byte masking key repeated."},
    {"parse_header", (PyCFunction)speedups_parse_header, METH_O,
     "parse_header(buf) -> (fin, opcode, masked, payload_len, header_len) or None\n\n"
     "The frame header at the start of buf, or None while it is incomplete."},
    {"parse_whole", (PyCFunction)(void (*)(void))speedups_parse_whole, METH_FASTCALL,
     "parse_whole(buf, have, max_payload_len, state, strict) -> (data, typ, err, end) or None\n\n"
     "A whole final masked text/binary frame starting a message at the start of buf[:have]."},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    "websocket._speedups",
    "Optional C helpers for WebSocket frames (masking, header parsing, the whole-frame fast path).",
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
