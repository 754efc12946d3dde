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
 * websocket.protocol keeps pure-Python versions of both; this module is
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

static PyMethodDef speedups_methods[] = {
    {"apply_mask", (PyCFunction)(void (*)(void))speedups_apply_mask, METH_FASTCALL,
     "apply_mask(data, key) -> bytes\n\nXOR data with the 4-byte masking key repeated."},
    {"parse_header", (PyCFunction)speedups_parse_header, METH_O,
     "parse_header(buf) -> (fin, opcode, masked, payload_len, header_len) or None\n\n"
     "The frame header at the start of buf, or None while it is incomplete."},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    "websocket._speedups",
    "Optional C helpers for WebSocket frames (masking, header parsing).",
    0,
    speedups_methods,
    NULL, NULL, NULL, NULL
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModuleDef_Init(&speedups_module);
}
