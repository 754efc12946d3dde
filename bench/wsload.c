/*
 * wsload: an epoll WebSocket load generator for echo servers (the bench's copy
 * of shared/tools/wsload.c, extended).  bench/run.py builds it with
 *
 *   cc -O2 -o bench/build/wsload bench/wsload.c -lm -lz
 *
 * Modes (one process, one thread: pin it with taskset):
 *   wsload -p 8080 -u /echo -c 50 -s 64 -d 5          echo, closed loop (-P N in flight per conn)
 *   wsload -p 8080 -u /echo -c 50 -s 64 -r 2000 -d 5  echo, open loop at 2000 msgs/s in total
 *   wsload -p 8080 -u /echo -c 8 -C -d 5              connect, handshake, close, repeat
 *   wsload -p 8080 -u /echo -c 10000 -B 200 -I -d 10  hold idle connections (prints READY)
 *   wsload -p 8080 -u /echo -c 50 -s 16384 -t -z -d 5 compressed echo (permessage-deflate)
 *
 * -z offers permessage-deflate with client_no_context_takeover and
 * server_no_context_takeover (RFC 7692) and fails a connection whose 101 does
 * not accept it; -Z offers it with the server's defaults (context takeover).
 * The payload is then JSON-like text of -s bytes, compressed once at start
 * (raw deflate, a fresh stream, its trailing 00 00 ff ff removed) and sent
 * with RSV1 set: each message is a fresh deflate stream, so the same bytes are
 * valid every time and the server inflates and deflates every message.  An
 * answer counts as an echo when it is a data message with RSV1 set; the first
 * one is inflated and compared with the text.  With -I, -z/-Z sends one
 * message on each connection and waits for its echo before holding it idle.
 *
 * -w SECS warms up before the measured window (counters are reset when it
 * starts); -B N caps the connections being opened at once (a ramp, so that a
 * small listen backlog does not turn into SYN retransmits).
 *
 * Latency: closed loop, from send to echo; open loop (-r), from the moment
 * the message was due, so a server that falls behind is charged for the queue
 * it builds (no coordinated omission); -C, from connect() to the 101.
 * The last line is machine-readable:
 *
 *   RESULT mode=echo conns=50 alive=50 msgs=123456 secs=5.00 msgs_per_s=24691
 *          mb_per_s=1.6 p50_us=... p99_us=... max_us=... errors=0 bad_echo=0 cpu_pct=41.0
 *
 * msgs counts echoed messages (-C: completed connect/handshake/close cycles);
 * cpu_pct is this process's CPU time over the measured window (100 = one core).
 * It only talks to the IPv4 address it is given; use loopback.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

enum { ST_FREE, ST_CONNECTING, ST_HANDSHAKE, ST_RUNNING, ST_CLOSING, ST_DEAD };
enum { MODE_ECHO, MODE_IDLE, MODE_CONNECT };
#define RING 64

typedef struct {
    int fd;
    int state;
    unsigned char *rbuf;
    size_t rlen, rcap;
    unsigned char *wbuf;
    size_t wlen, woff, wcap;
    const unsigned char *zc; /* a large message's payload, sent from premasked[] after wbuf (no copy) */
    size_t zc_off, zc_len;
    int inflight;
    unsigned events;
    double sent_at[RING];
    int sent_head, sent_tail;
    uint32_t seq;
    double opened_at; /* connect() time, for -C */
    double next_due;  /* open loop: when the next message is due */
    uint64_t frag_len; /* bytes of a fragmented message received so far */
    int frag_rsv1;     /* a fragmented message's first frame had RSV1 */
    int idle_echoed;   /* -I with -z: the one message before going idle came back */
} conn_t;

static const char *host = "127.0.0.1";
static int port = 8080;
static const char *path = "/";
static int nconns = 10;
static size_t msgsize = 64;
static double duration = 5.0;
static double warmup = 0.0;
static double rate = 0.0;
static int pipeline = 1;
static int mode = MODE_ECHO;
static int text_mode = 0;
static int verify = 1;
static int max_opening = 0;
static int zmode = 0; /* 1: -z (no context takeover both ways), 2: -Z (the server's defaults) */

static struct sockaddr_in sa;
static unsigned char *payload;     /* the message as the application sees it */
static unsigned char *wire;        /* what goes in a frame: payload, or its deflated form with -z */
static size_t wire_size;
static long long idle_echoes;
static int checked_inflate;
static long long msgs, errors, bad_echo, handshakes, opened, cycles;
static int measuring;
static double t_end;

/* latency histogram: 10 us linear buckets up to 40.96 ms, then 1% geometric ones */
#define NLIN 4096
#define NGEO 1200
static long long hist[NLIN + NGEO];
static double lat_max;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void record_latency(double us) {
    if (!measuring) return;
    int b;
    if (us < NLIN * 10.0) {
        b = us < 0 ? 0 : (int)(us / 10.0);
    } else {
        b = NLIN + (int)(log(us / (NLIN * 10.0)) / log(1.01));
        if (b >= NLIN + NGEO) b = NLIN + NGEO - 1;
    }
    hist[b]++;
    if (us > lat_max) lat_max = us;
}

static double bucket_value(int b) {
    if (b < NLIN) return b * 10.0 + 5.0;
    return NLIN * 10.0 * pow(1.01, b - NLIN + 0.5);
}

static double percentile(double p) {
    long long total = 0, acc = 0;
    for (int i = 0; i < NLIN + NGEO; i++) total += hist[i];
    if (!total) return 0;
    long long want = (long long)(total * p);
    for (int i = 0; i < NLIN + NGEO; i++) {
        acc += hist[i];
        if (acc > want) return bucket_value(i);
    }
    return lat_max;
}

static void reserve_write(conn_t *c, size_t n) {
    if (c->zc) {
        /* something goes after a payload still sent from premasked[]: copy its rest first (rare) */
        const unsigned char *zc = c->zc + c->zc_off;
        size_t left = c->zc_len - c->zc_off;
        c->zc = NULL;
        reserve_write(c, left);
        memcpy(c->wbuf + c->wlen, zc, left);
        c->wlen += left;
    }
    if (c->woff == c->wlen) c->woff = c->wlen = 0;
    if (c->wlen + n <= c->wcap) return;
    size_t cap = c->wcap ? c->wcap : 4096;
    while (cap < c->wlen + n) cap *= 2;
    c->wbuf = realloc(c->wbuf, cap);
    c->wcap = cap;
}

static void ensure_rcap(conn_t *c, size_t need) {
    if (c->rcap >= need) return;
    size_t cap = c->rcap ? c->rcap : 4096;
    while (cap < need) cap *= 2;
    c->rbuf = realloc(c->rbuf, cap);
    c->rcap = cap;
}

/* append one masked control frame (the close frame of -C) */
static void queue_raw_frame(conn_t *c, int opcode, const unsigned char *data, size_t len) {
    unsigned char hdr[14];
    size_t h = 0;
    hdr[h++] = 0x80 | opcode;
    if (len <= 125) {
        hdr[h++] = 0x80 | (unsigned char)len;
    } else if (len <= 65535) {
        hdr[h++] = 0x80 | 126;
        hdr[h++] = (len >> 8) & 0xff;
        hdr[h++] = len & 0xff;
    } else {
        hdr[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--) hdr[h++] = ((uint64_t)len >> (8 * i)) & 0xff;
    }
    uint32_t key = 0x9e3779b9u * (++c->seq) ^ (uint32_t)c->fd;
    unsigned char mk[4] = {key >> 24, key >> 16, key >> 8, key};
    memcpy(hdr + h, mk, 4);
    h += 4;
    reserve_write(c, h + len);
    unsigned char *p = c->wbuf + c->wlen;
    memcpy(p, hdr, h);
    p += h;
    for (size_t i = 0; i < len; i++) p[i] = data[i] ^ mk[i & 3];
    c->wlen += h + len;
}

/* the payload masked with NKEYS keys ahead of time, so a message costs one memcpy (none from
 * ZC_MIN bytes on: sendmsg takes the payload straight from premasked[]) */
#define ZC_MIN 65536
#define NKEYS 8
static unsigned char *premasked[NKEYS];
static unsigned char keys[NKEYS][4];

static void premask(void) {
    for (int k = 0; k < NKEYS; k++) {
        uint32_t key = 0x9e3779b9u * (uint32_t)(k + 1);
        unsigned char mk[4] = {key >> 24, key >> 16, key >> 8, key};
        memcpy(keys[k], mk, 4);
        premasked[k] = malloc(wire_size + 1);
        for (size_t i = 0; i < wire_size; i++) premasked[k][i] = wire[i] ^ mk[i & 3];
    }
}

static void queue_message(conn_t *c, double stamp) {
    unsigned char hdr[14];
    size_t h = 0;
    int k = (int)(++c->seq % NKEYS);
    hdr[h++] = 0x80 | (zmode ? 0x40 : 0) | (text_mode ? 0x1 : 0x2);
    if (wire_size <= 125) {
        hdr[h++] = 0x80 | (unsigned char)wire_size;
    } else if (wire_size <= 65535) {
        hdr[h++] = 0x80 | 126;
        hdr[h++] = (wire_size >> 8) & 0xff;
        hdr[h++] = wire_size & 0xff;
    } else {
        hdr[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--) hdr[h++] = ((uint64_t)wire_size >> (8 * i)) & 0xff;
    }
    memcpy(hdr + h, keys[k], 4);
    h += 4;
    if (wire_size >= ZC_MIN) {
        reserve_write(c, h);
        memcpy(c->wbuf + c->wlen, hdr, h);
        c->wlen += h;
        c->zc = premasked[k];
        c->zc_off = 0;
        c->zc_len = wire_size;
    } else {
        reserve_write(c, h + wire_size);
        memcpy(c->wbuf + c->wlen, hdr, h);
        memcpy(c->wbuf + c->wlen + h, premasked[k], wire_size);
        c->wlen += h + wire_size;
    }
    c->sent_at[c->sent_tail] = stamp;
    c->sent_tail = (c->sent_tail + 1) % RING;
    c->inflight++;
}

static int write_pending(const conn_t *c) {
    return c->woff < c->wlen || c->zc != NULL;
}

static int flush_writes(conn_t *c) {
    while (write_pending(c)) {
        size_t wpend = c->wlen - c->woff;
        ssize_t n;
        if (c->zc) {
            struct iovec iov[2];
            struct msghdr m;
            int cnt = 0;
            memset(&m, 0, sizeof m);
            if (wpend) {
                iov[cnt].iov_base = c->wbuf + c->woff;
                iov[cnt++].iov_len = wpend;
            }
            iov[cnt].iov_base = (void *)(c->zc + c->zc_off);
            iov[cnt++].iov_len = c->zc_len - c->zc_off;
            m.msg_iov = iov;
            m.msg_iovlen = cnt;
            n = sendmsg(c->fd, &m, MSG_NOSIGNAL);
        } else {
            n = send(c->fd, c->wbuf + c->woff, wpend, MSG_NOSIGNAL);
        }
        if (n < 0) {
            if (errno == EAGAIN) return 0;
            return -1;
        }
        size_t took = (size_t)n < wpend ? (size_t)n : wpend;
        c->woff += took;
        if (c->zc) {
            c->zc_off += (size_t)n - took;
            if (c->zc_off == c->zc_len) c->zc = NULL;
        }
    }
    return 0;
}

static void drop_conn(int ep, conn_t *c, int failed) {
    if (c->state == ST_DEAD || c->state == ST_FREE) return;
    if (failed) errors++;
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->state = ST_DEAD;
    c->rlen = c->wlen = c->woff = 0;
    c->zc = NULL;
    c->inflight = c->sent_head = c->sent_tail = 0;
    c->frag_len = 0;
    c->frag_rsv1 = 0;
}

static void open_conn(int ep, conn_t *c) {
    opened++;
    c->opened_at = now();
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c->fd < 0) { c->state = ST_DEAD; errors++; return; }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int r = connect(c->fd, (struct sockaddr *)&sa, sizeof sa);
    if (r < 0 && errno != EINPROGRESS) { close(c->fd); c->state = ST_DEAD; errors++; return; }
    c->state = ST_CONNECTING;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    c->events = EPOLLIN | EPOLLOUT;
}

static void start_handshake(conn_t *c) {
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n%s\r\n",
                     path, host, port,
                     zmode == 1 ? "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; "
                                    "server_no_context_takeover\r\n"
                     : zmode == 2 ? "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
                                    : "");
    reserve_write(c, n);
    memcpy(c->wbuf + c->wlen, req, n);
    c->wlen += n;
    c->state = ST_HANDSHAKE;
}

static void on_echo(conn_t *c, double t) {
    double sent = c->sent_at[c->sent_head];
    c->sent_head = (c->sent_head + 1) % RING;
    c->inflight--;
    if (mode == MODE_IDLE) {
        if (!c->idle_echoed) idle_echoes++;
        c->idle_echoed = 1;
        return;
    }
    if (measuring) msgs++;
    record_latency((t - sent) * 1e6);
    if (rate <= 0 && t < t_end) queue_message(c, now());
}

/* JSON-like text of msgsize bytes: compressible, as the messages of a real application are */
static void json_like(unsigned char *out, size_t n) {
    static const char *words[] = {"update", "create", "delete", "someone", "another", "status"};
    size_t off = 0;
    unsigned i = 0;
    char item[160];
    while (off < n) {
        int k = snprintf(item, sizeof item,
                         "{\"id\": %u, \"user\": \"%s\", \"event\": \"%s\", \"payload\": {\"x\": %u, \"y\": %u}}, ",
                         10000 + i * 7, words[i % 6], words[(i / 6) % 6], i % 100, (i * 37) % 1000);
        size_t take = (size_t)k < n - off ? (size_t)k : n - off;
        memcpy(out + off, item, take);
        off += take;
        i++;
    }
}

/* RFC 7692 7.2.1: raw deflate of the whole message in a fresh stream, sync-flushed, 00 00 ff ff removed */
static void deflate_payload(void) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        fprintf(stderr, "wsload: deflateInit2 failed\n");
        exit(2);
    }
    size_t cap = deflateBound(&z, msgsize) + 16;
    wire = malloc(cap);
    z.next_in = payload;
    z.avail_in = msgsize;
    z.next_out = wire;
    z.avail_out = cap;
    if (deflate(&z, Z_SYNC_FLUSH) != Z_OK || z.avail_in) {
        fprintf(stderr, "wsload: deflate failed\n");
        exit(2);
    }
    wire_size = cap - z.avail_out;
    deflateEnd(&z);
    if (wire_size < 4 || memcmp(wire + wire_size - 4, "\x00\x00\xff\xff", 4) != 0) {
        fprintf(stderr, "wsload: deflate output does not end with 00 00 ff ff\n");
        exit(2);
    }
    wire_size -= 4;
}

/* the first compressed answer: inflate it (with 00 00 ff ff put back) and compare it with the text */
static void check_inflate(const unsigned char *data, size_t len) {
    checked_inflate = 1;
    if (!verify) return;
    z_stream z;
    memset(&z, 0, sizeof z);
    unsigned char *in = malloc(len + 4), *out = malloc(msgsize + 1);
    memcpy(in, data, len);
    memcpy(in + len, "\x00\x00\xff\xff", 4);
    inflateInit2(&z, -15);
    z.next_in = in;
    z.avail_in = len + 4;
    z.next_out = out;
    z.avail_out = msgsize + 1;
    int rc = inflate(&z, Z_SYNC_FLUSH);
    size_t got = msgsize + 1 - z.avail_out;
    if ((rc != Z_OK && rc != Z_STREAM_END) || got != msgsize || memcmp(out, payload, msgsize) != 0) {
        fprintf(stderr, "wsload: the first compressed echo does not inflate to the message sent\n");
        bad_echo++;
    }
    inflateEnd(&z);
    free(in);
    free(out);
}

/* parse the complete frames buffered; -1 when the connection must go */
static int consume_frames(conn_t *c) {
    size_t off = 0;
    int rc = 0;
    for (;;) {
        if (c->rlen - off < 2) break;
        unsigned char *f = c->rbuf + off;
        int fin = f[0] & 0x80;
        int opcode = f[0] & 0x0f;
        int masked = f[1] & 0x80;
        uint64_t len = f[1] & 0x7f;
        size_t h = 2;
        if (len == 126) {
            if (c->rlen - off < 4) break;
            len = ((uint64_t)f[2] << 8) | f[3];
            h = 4;
        } else if (len == 127) {
            if (c->rlen - off < 10) break;
            len = 0;
            for (int i = 0; i < 8; i++) len = (len << 8) | f[2 + i];
            h = 10;
        }
        if (masked) h += 4;
        if (c->rlen - off < h + len) {
            ensure_rcap(c, c->rlen - off + h + len);
            break;
        }
        if (opcode == 0x8) { rc = -1; break; } /* the server closed */
        if (zmode && (opcode == 0x1 || opcode == 0x2 || opcode == 0x0)) {
            int rsv1 = f[0] & 0x40;
            if (opcode != 0x0 && fin) {
                if (!rsv1) bad_echo++;
                else if (!checked_inflate && !masked) check_inflate(f + h, len);
                on_echo(c, now());
            } else {
                if (opcode != 0x0) c->frag_rsv1 = rsv1;
                if (fin) {
                    if (!c->frag_rsv1) bad_echo++;
                    c->frag_rsv1 = 0;
                    on_echo(c, now());
                }
            }
        } else if (opcode == 0x1 || opcode == 0x2 || opcode == 0x0) {
            if (opcode != 0x0 && fin) {
                if (len != msgsize || (verify && !masked && memcmp(f + h, payload, len) != 0)) bad_echo++;
                on_echo(c, now());
            } else {
                c->frag_len += len; /* a fragmented echo: count it when the last piece lands */
                if (fin) {
                    if (c->frag_len != msgsize) bad_echo++;
                    c->frag_len = 0;
                    on_echo(c, now());
                }
            }
        }
        off += h + len;
    }
    if (off) {
        memmove(c->rbuf, c->rbuf + off, c->rlen - off);
        c->rlen -= off;
    }
    return rc;
}

/* the 101's headers (`len` bytes) carry a Sec-WebSocket-Extensions line naming permessage-deflate */
static int accepts_deflate(const unsigned char *head, size_t len) {
    char *text = malloc(len + 1);
    memcpy(text, head, len);
    text[len] = 0;
    int ok = 0;
    for (char *line = strcasestr(text, "\r\nsec-websocket-extensions:"); line && !ok;
         line = strcasestr(line + 2, "\r\nsec-websocket-extensions:")) {
        char *eol = strstr(line + 2, "\r\n");
        if (eol) *eol = 0;
        ok = strcasestr(line, "permessage-deflate") != NULL;
        if (eol) *eol = '\r';
    }
    free(text);
    return ok;
}

static void on_readable(int ep, conn_t *c) {
    int eof = 0;
    for (;;) {
        ensure_rcap(c, c->rlen + 65536);
        ssize_t n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
        if (n == 0) { eof = 1; break; }
        if (n < 0) {
            if (errno == EAGAIN) break;
            if (c->state == ST_CLOSING && measuring) cycles++; /* a reset after our close frame */
            drop_conn(ep, c, c->state != ST_CLOSING);
            return;
        }
        c->rlen += n;
        if ((size_t)n < 65536) break;
    }
    if (c->state == ST_CLOSING) {
        c->rlen = 0; /* wait for the server to close the connection after its close frame */
        if (eof) {
            if (measuring) cycles++;
            drop_conn(ep, c, 0);
        }
        return;
    }
    if (c->state == ST_HANDSHAKE) {
        unsigned char *end = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);
        if (!end) {
            if (eof) drop_conn(ep, c, 1);
            return;
        }
        if (c->rlen < 12 || memcmp(c->rbuf + 9, "101", 3) != 0) { drop_conn(ep, c, 1); return; }
        size_t hl = end - c->rbuf + 4;
        if (zmode && !accepts_deflate(c->rbuf, hl)) { drop_conn(ep, c, 1); return; }
        memmove(c->rbuf, c->rbuf + hl, c->rlen - hl);
        c->rlen -= hl;
        c->state = ST_RUNNING;
        handshakes++;
        if (mode == MODE_CONNECT) {
            record_latency((now() - c->opened_at) * 1e6);
            static const unsigned char bye[2] = {0x03, 0xe8}; /* 1000, normal closure */
            queue_raw_frame(c, 0x8, bye, 2);
            c->state = ST_CLOSING;
            c->rlen = 0;
            if (eof) { if (measuring) cycles++; drop_conn(ep, c, 0); }
            return;
        }
        if (mode == MODE_ECHO && rate <= 0)
            for (int i = 0; i < pipeline; i++) queue_message(c, now());
        if (mode == MODE_IDLE && zmode) queue_message(c, now()); /* one message each way, then idle */
    }
    if (c->state == ST_RUNNING && (mode == MODE_ECHO || (mode == MODE_IDLE && zmode))) {
        if (consume_frames(c) < 0) { drop_conn(ep, c, 1); return; }
    }
    if (eof) drop_conn(ep, c, 1);
}

static void update_interest(int ep, conn_t *c) {
    unsigned want = EPOLLIN | (write_pending(c) ? EPOLLOUT : 0);
    if (want != c->events) {
        struct epoll_event ev = {.events = want, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        c->events = want;
    }
}

/* open loop: queue the messages that are due; returns seconds to the next one */
static double send_due(int ep, conn_t *conns, double t) {
    double interval = nconns / rate, next = t + 0.05;
    for (int i = 0; i < nconns; i++) {
        conn_t *c = &conns[i];
        if (c->state != ST_RUNNING) continue;
        if (c->next_due == 0) c->next_due = t + interval * i / nconns;
        int queued = 0;
        while (c->next_due <= t && c->next_due < t_end) {
            if (c->inflight < RING - 1) {
                queue_message(c, c->next_due);
                queued = 1;
            } else if (measuring) {
                record_latency((t - c->sent_at[c->sent_head]) * 1e6); /* the queue is full: charge it */
            }
            c->next_due += interval;
        }
        if (queued) {
            if (flush_writes(c) < 0) { drop_conn(ep, c, 1); continue; }
            update_interest(ep, c);
        }
        if (c->next_due < next) next = c->next_due;
    }
    return next - t;
}

static void usage(void) {
    fprintf(stderr, "usage: wsload [-H host] [-p port] [-u path] [-c conns] [-s bytes] [-d secs] [-w secs]\n"
                    "              [-P pipeline] [-r msgs_per_s] [-B max_opening] [-t] [-z | -Z] [-I | -C] [-n]\n");
    exit(2);
}

int main(int argc, char **argv) {
    int opt;
    while ((opt = getopt(argc, argv, "H:p:u:c:s:d:w:P:r:B:tzZICn")) != -1) {
        switch (opt) {
        case 'H': host = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'u': path = optarg; break;
        case 'c': nconns = atoi(optarg); break;
        case 's': msgsize = strtoul(optarg, NULL, 10); break;
        case 'd': duration = atof(optarg); break;
        case 'w': warmup = atof(optarg); break;
        case 'P': pipeline = atoi(optarg); if (pipeline < 1 || pipeline >= RING) usage(); break;
        case 'r': rate = atof(optarg); break;
        case 'B': max_opening = atoi(optarg); break;
        case 't': text_mode = 1; break;
        case 'z': zmode = 1; break;
        case 'Z': zmode = 2; break;
        case 'I': mode = MODE_IDLE; break;
        case 'C': mode = MODE_CONNECT; break;
        case 'n': verify = 0; break;
        default: usage();
        }
    }
    if (nconns < 1) usage();
    if (max_opening <= 0) max_opening = nconns;
    signal(SIGPIPE, SIG_IGN);
    payload = malloc(msgsize + 1);
    if (zmode) {
        json_like(payload, msgsize);
        deflate_payload();
    } else {
        for (size_t i = 0; i < msgsize; i++) payload[i] = 'a' + (i % 26);
        wire = payload;
        wire_size = msgsize;
    }
    premask();

    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fprintf(stderr, "wsload: host must be an IPv4 address\n");
        return 2;
    }

    int ep = epoll_create1(0);
    conn_t *conns = calloc(nconns, sizeof(conn_t));
    for (int i = 0; i < nconns; i++) conns[i].state = ST_FREE;
    double t0 = now(), t_start = 0, cpu0 = 0;
    int phase = 0; /* 0 ramp, 1 warm-up, 2 measure */
    double t_warm = 0;
    t_end = 1e300;
    int next_slot = 0;
    struct epoll_event evs[512];
    for (;;) {
        double t = now();
        /* open connections: the ramp (-B at a time), and -C's replacements */
        if (mode == MODE_CONNECT) {
            if (t < t_end)
                for (int i = 0; i < nconns; i++)
                    if (conns[i].state == ST_FREE || conns[i].state == ST_DEAD) open_conn(ep, &conns[i]);
        } else {
            while (next_slot < nconns && opened - handshakes - errors < max_opening)
                open_conn(ep, &conns[next_slot++]);
        }
        long long settled = mode == MODE_IDLE && zmode ? idle_echoes : handshakes;
        if (phase == 0 && (mode == MODE_CONNECT || settled + errors >= nconns)) {
            phase = 1;
            t_warm = t;
            if (mode == MODE_IDLE) {
                printf("READY conns=%lld errors=%lld secs=%.2f\n", handshakes, errors, t - t0);
                fflush(stdout);
            }
        }
        if (phase == 1 && t - t_warm >= warmup) {
            phase = 2;
            measuring = 1;
            t_start = t;
            t_end = t + duration;
            cpu0 = cpu_seconds();
            msgs = cycles = 0;
            lat_max = 0;
            memset(hist, 0, sizeof hist);
        }
        if (phase == 0 && t - t0 > 60) {
            fprintf(stderr, "wsload: only %lld of %d connections open after 60s\n", handshakes, nconns);
            break;
        }
        if (phase == 1 && warmup > 0 && t_end > 1e299) t_end = t_warm + warmup + duration;
        if (phase == 2 && t >= t_end) break;

        double wait = 0.05;
        if (rate > 0 && mode == MODE_ECHO && phase > 0) wait = send_due(ep, conns, t);
        if (wait < 0) wait = 0;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)(wait * 1e9)};
        int n = epoll_pwait2(ep, evs, 512, &ts, NULL);
        if (n < 0 && errno == ENOSYS) n = epoll_wait(ep, evs, 512, (int)(wait * 1000));
        for (int i = 0; i < n; i++) {
            conn_t *c = evs[i].data.ptr;
            if (c->state == ST_DEAD || c->state == ST_FREE) continue;
            if (c->state == ST_CONNECTING) {
                int err = 0;
                socklen_t l = sizeof err;
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
                if (err) { drop_conn(ep, c, 1); continue; }
                start_handshake(c);
            }
            if ((evs[i].events & (EPOLLERR | EPOLLHUP)) && !(evs[i].events & EPOLLIN)) {
                drop_conn(ep, c, c->state != ST_CLOSING);
                continue;
            }
            if (evs[i].events & EPOLLIN) on_readable(ep, c);
            if (c->state == ST_DEAD) continue;
            if (flush_writes(c) < 0) { drop_conn(ep, c, c->state != ST_CLOSING); continue; }
            update_interest(ep, c);
        }
    }
    double secs = now() - t_start;
    double cpu = cpu_seconds() - cpu0;
    if (!measuring) secs = 0;
    long long alive = 0;
    for (int i = 0; i < nconns; i++) if (conns[i].state == ST_RUNNING) alive++;
    long long count = mode == MODE_CONNECT ? cycles : msgs;
    static const char *names[] = {"echo", "idle", "connect"};
    printf("RESULT mode=%s conns=%d alive=%lld msgs=%lld secs=%.2f msgs_per_s=%.0f mb_per_s=%.2f "
           "p50_us=%.0f p99_us=%.0f max_us=%.0f errors=%lld bad_echo=%lld cpu_pct=%.1f\n",
           names[mode], nconns, alive, count, secs, secs > 0 ? count / secs : 0,
           secs > 0 ? msgs * (double)msgsize / secs / 1e6 : 0, percentile(0.5), percentile(0.99), lat_max,
           errors, bad_echo, secs > 0 ? 100.0 * cpu / secs : 0);
    return 0;
}
