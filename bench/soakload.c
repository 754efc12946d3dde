/*
 * soakload: an epoll WebSocket soak client for bench/soak.py.  Every message is checked end to end.
 *
 *   cc -O2 -o bench/build/soakload bench/soakload.c
 *   soakload -p PORT -u /echo -c 1000 -d 60 -r 5000 [-B 100] [-i 5]
 *
 * Each of the -c connections sends masked text frames one at a time (the next once the echo came back
 * and its turn is due: -r caps the total rate, 0 = as fast as possible).  A message carries its
 * connection number, a per-connection sequence number, a checksum and a filler whose length and bytes
 * depend on both, so the echo is compared with what must have been sent, byte for byte:
 *
 *   c=17 s=4242 k=9a3f01c2 <filler>
 *
 * lost    = messages sent whose echo never came (connection dropped or still in flight at the end)
 * corrupt = echoes that differ from the message (content, opcode, order)
 * Every -i seconds a PROGRESS line; the last line is machine-readable:
 *   RESULT conns=1000 alive=1000 msgs=... secs=... msgs_per_s=... lost=0 corrupt=0 dropped=0 failed=0
 * It only connects to 127.0.0.1.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { ST_FREE, ST_CONNECTING, ST_HANDSHAKE, ST_RUNNING, ST_DEAD };
#define MAXMSG 1024

typedef struct {
    int fd, state, idx;
    unsigned char rbuf[4 * MAXMSG];
    size_t rlen;
    unsigned char wbuf[MAXMSG + 16];
    size_t wlen, woff;
    uint64_t seq;        /* next sequence number to send */
    int inflight;        /* 0 or 1 */
    unsigned char msg[MAXMSG];
    size_t msglen;       /* the message in flight, unmasked */
    double due;
} conn_t;

static int port = 0, nconns = 100, ramp = 100, interval = 5;
static const char *path = "/echo";
static double duration = 60, rate = 5000;
static uint64_t msgs = 0, corrupt = 0, dropped = 0, failed = 0, lost = 0;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint32_t fnv1a(const unsigned char *p, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) { h ^= p[i]; h *= 16777619u; }
    return h;
}

/* The message number `seq` of connection `idx`: its bytes follow from (idx, seq) alone. */
static size_t make_msg(unsigned char *out, int idx, uint64_t seq) {
    unsigned char filler[MAXMSG];
    size_t flen = 16 + (size_t)((seq * 2654435761u + (uint64_t)idx * 40503u) % 480);
    uint32_t x = (uint32_t)(idx * 2246822519u) ^ (uint32_t)(seq * 3266489917u) ^ 0x9e3779b9u;
    for (size_t i = 0; i < flen; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        filler[i] = (unsigned char)('a' + x % 26);
    }
    int n = snprintf((char *)out, MAXMSG, "c=%d s=%llu k=%08x ", idx, (unsigned long long)seq, fnv1a(filler, flen));
    memcpy(out + n, filler, flen);
    return n + flen;
}

static void set_nonblock_nodelay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void open_conn(int ep, conn_t *c) {
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    set_nonblock_nodelay(c->fd);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connect(c->fd, (struct sockaddr *)&sa, sizeof sa);
    c->state = ST_CONNECTING;
    c->rlen = c->wlen = c->woff = 0;
    c->inflight = 0;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

static void drop(int ep, conn_t *c) {
    if (c->state == ST_RUNNING || c->state == ST_HANDSHAKE) dropped++;
    else failed++;
    if (c->inflight) lost++;
    c->inflight = 0;
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->state = ST_DEAD;
}

static int flush(int ep, conn_t *c) {
    while (c->woff < c->wlen) {
        ssize_t n = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN) return 0;
            drop(ep, c);
            return -1;
        }
        c->woff += n;
    }
    c->wlen = c->woff = 0;
    return 0;
}

static void send_next(int ep, conn_t *c) {
    static const unsigned char key[4] = {0x37, 0xfa, 0x21, 0x3d};
    c->msglen = make_msg(c->msg, c->idx, c->seq);
    unsigned char *w = c->wbuf;
    size_t h = 0;
    w[h++] = 0x81;
    if (c->msglen < 126) w[h++] = 0x80 | c->msglen;
    else { w[h++] = 0x80 | 126; w[h++] = c->msglen >> 8; w[h++] = c->msglen & 0xff; }
    memcpy(w + h, key, 4); h += 4;
    for (size_t i = 0; i < c->msglen; i++) w[h + i] = c->msg[i] ^ key[i & 3];
    c->wlen = h + c->msglen;
    c->woff = 0;
    c->inflight = 1;
    c->seq++;
    flush(ep, c);
}

static void on_read(int ep, conn_t *c, double t) {
    for (;;) {
        ssize_t n = recv(c->fd, c->rbuf + c->rlen, sizeof c->rbuf - c->rlen, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN)) { drop(ep, c); return; }
        if (n < 0) break;
        c->rlen += n;
        if (c->rlen == sizeof c->rbuf) break;
    }
    if (c->state == ST_HANDSHAKE) {
        unsigned char *end = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);
        if (!end) return;
        if (c->rlen < 12 || memcmp(c->rbuf, "HTTP/1.1 101", 12) != 0) { drop(ep, c); return; }
        size_t used = end + 4 - c->rbuf;
        memmove(c->rbuf, c->rbuf + used, c->rlen - used);
        c->rlen -= used;
        c->state = ST_RUNNING;
        c->due = t;
    }
    while (c->rlen >= 2) {
        size_t len = c->rbuf[1] & 0x7f, h = 2;
        if (len == 126) { if (c->rlen < 4) return; len = (c->rbuf[2] << 8) | c->rbuf[3]; h = 4; }
        else if (len == 127) { corrupt++; drop(ep, c); return; }
        if (c->rlen < h + len) return;
        if (!c->inflight || c->rbuf[0] != 0x81 || len != c->msglen || memcmp(c->rbuf + h, c->msg, len) != 0) {
            corrupt++;
        } else {
            msgs++;
        }
        c->inflight = 0;
        memmove(c->rbuf, c->rbuf + h + len, c->rlen - h - len);
        c->rlen -= h + len;
    }
}

int main(int argc, char **argv) {
    int opt;
    while ((opt = getopt(argc, argv, "p:u:c:d:r:B:i:")) != -1) {
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 'u': path = optarg; break;
        case 'c': nconns = atoi(optarg); break;
        case 'd': duration = atof(optarg); break;
        case 'r': rate = atof(optarg); break;
        case 'B': ramp = atoi(optarg); break;
        case 'i': interval = atoi(optarg); break;
        default:
            fprintf(stderr, "usage: soakload -p PORT [-u PATH] [-c CONNS] [-d SECS] [-r MSGS_PER_S] [-B RAMP] [-i SECS]\n");
            return 2;
        }
    }
    if (!port) { fprintf(stderr, "soakload: -p PORT is required\n"); return 2; }
    signal(SIGPIPE, SIG_IGN);
    conn_t *conns = calloc(nconns, sizeof *conns);
    int ep = epoll_create1(0);
    char req[512];
    int reqlen = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          "Sec-WebSocket-Version: 13\r\n\r\n", path);
    double start = now(), end = start + duration, next_report = start + interval;
    double gap = rate > 0 ? nconns / rate : 0;  /* per-connection interval between messages */
    int opened = 0;
    struct epoll_event evs[256];
    while (now() < end) {
        double t = now();
        int connecting = 0;
        for (int i = 0; i < opened; i++) if (conns[i].state == ST_CONNECTING || conns[i].state == ST_HANDSHAKE) connecting++;
        while (opened < nconns && connecting < ramp) {
            conns[opened].idx = opened;
            open_conn(ep, &conns[opened]);
            opened++; connecting++;
        }
        int n = epoll_wait(ep, evs, 256, 1);
        t = now();
        for (int k = 0; k < n; k++) {
            conn_t *c = evs[k].data.ptr;
            if (c->state == ST_DEAD) continue;
            if (c->state == ST_CONNECTING && (evs[k].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
                int err = 0; socklen_t l = sizeof err;
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
                if (err) { drop(ep, c); continue; }
                memcpy(c->wbuf, req, reqlen); c->wlen = reqlen; c->woff = 0;
                c->state = ST_HANDSHAKE;
                struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                if (flush(ep, c) < 0) continue;
            }
            if (evs[k].events & EPOLLOUT && c->wlen) flush(ep, c);
            if (c->state != ST_DEAD && evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_read(ep, c, t);
        }
        for (int i = 0; i < opened; i++) {
            conn_t *c = &conns[i];
            if (c->state == ST_RUNNING && !c->inflight && c->due <= t) {
                c->due = (gap > 0 && c->due + gap > t - 1.0) ? c->due + gap : t + gap;
                send_next(ep, c);
            }
        }
        if (t >= next_report) {
            int alive = 0;
            for (int i = 0; i < opened; i++) alive += conns[i].state == ST_RUNNING;
            printf("PROGRESS t=%.0f alive=%d msgs=%llu corrupt=%llu lost=%llu dropped=%llu failed=%llu\n",
                   t - start, alive, (unsigned long long)msgs, (unsigned long long)corrupt,
                   (unsigned long long)lost, (unsigned long long)dropped, (unsigned long long)failed);
            fflush(stdout);
            next_report += interval;
        }
    }
    /* drain: give the messages in flight up to 2 s to come back, send nothing new */
    double drain_end = now() + 2.0;
    for (;;) {
        int pending = 0;
        for (int i = 0; i < opened; i++) pending += conns[i].state == ST_RUNNING && conns[i].inflight;
        if (!pending || now() > drain_end) break;
        int n = epoll_wait(ep, evs, 256, 10);
        for (int k = 0; k < n; k++) {
            conn_t *c = evs[k].data.ptr;
            if (c->state == ST_RUNNING) { if (c->wlen) flush(ep, c); if (c->state == ST_RUNNING) on_read(ep, c, now()); }
        }
    }
    int alive = 0;
    for (int i = 0; i < opened; i++) {
        if (conns[i].state == ST_RUNNING) { alive++; if (conns[i].inflight) lost++; }
        if (conns[i].state != ST_DEAD && conns[i].state != ST_FREE) {
            /* a close frame (masked, code 1000), then the socket */
            static const unsigned char bye[] = {0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8};
            send(conns[i].fd, bye, sizeof bye, MSG_NOSIGNAL);
            close(conns[i].fd);
        }
    }
    double secs = now() - start;
    printf("RESULT conns=%d alive=%d msgs=%llu secs=%.1f msgs_per_s=%.0f lost=%llu corrupt=%llu dropped=%llu failed=%llu\n",
           nconns, alive, (unsigned long long)msgs, secs, msgs / secs, (unsigned long long)lost,
           (unsigned long long)corrupt, (unsigned long long)dropped, (unsigned long long)failed);
    return (lost || corrupt || dropped || failed) ? 1 : 0;
}
