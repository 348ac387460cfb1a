// Batched UDP for the DNS hot path: recvmmsg(2) and sendmmsg(2) on a socket watched by libuv.
//
// Node's dgram socket costs one syscall and one trip into JavaScript per datagram, each way.
// Here one readable event reads up to BATCH datagrams with one recvmmsg, hands the whole batch
// to JavaScript in one call, and sends every reply JavaScript left in the batch's send slots
// with one sendmmsg. Replies produced later (the asynchronous path) go out with sendTo().
//
// Shared memory with JavaScript (allocated by JavaScript, handed over by start(), held by
// references until close(); array buffer contents never move):
//   recv:  BATCH slots of SLOT bytes, the datagrams as received
//   send:  BATCH slots of SLOT bytes, replies written by JavaScript
//   meta:  BATCH x META int32: [length received, port, family (4|6), reply length (0 = none)],
//          then one more int32: the number of batches flushed so far. A reply the pipeline
//          finishes while its batch's callback is still draining promise jobs goes in its slot
//          and out with the batch; JavaScript reads this count to know that the batch is gone.
//   addr:  BATCH x 16 bytes: the sender's address (4 bytes for IPv4, 16 for IPv6)
// Only plain N-API (node_api.h) and libuv (uv.h), both shipped with Node's headers.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <node_api.h>
#include <uv.h>

#define BATCH 64
#define SLOT 65536
#define META 4
// Batches read per readable event before yielding to the rest of the event loop (timers,
// TCP, the control API): 16 x 64 datagrams.
#define ROUNDS 16

typedef struct {
  int fd;
  int family;
  int closed;
  uv_poll_t poll;
  napi_env env;
  napi_ref on_batch;
  napi_ref self;
  napi_async_context async_ctx;
  napi_ref buf_refs[4];
  int started, poll_pending, finalized, flush_count;
  unsigned char *recv;
  unsigned char *send;
  int32_t *meta;
  unsigned char *addr;
  struct mmsghdr rmsg[BATCH];
  struct iovec riov[BATCH];
  struct sockaddr_storage rname[BATCH];
  struct mmsghdr smsg[BATCH];
  struct iovec siov[BATCH];
  double received, sent, send_errors, batches, truncated;
} udp_sock;

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, NULL, "udp-batch: N-API call failed");    \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_value e, code, m;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  const char *name = err == EADDRINUSE ? "EADDRINUSE" : err == EACCES ? "EACCES" : err == EADDRNOTAVAIL ? "EADDRNOTAVAIL" : err == EINVAL ? "EINVAL" : "EIO";
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_error(env, code, m, &e);
  napi_set_named_property(env, e, "code", code);
  napi_throw(env, e);
  return NULL;
}

static udp_sock *unwrap(napi_env env, napi_value v) {
  udp_sock *s = NULL;
  if (napi_get_value_external(env, v, (void **)&s) != napi_ok || s == NULL) {
    napi_throw_type_error(env, NULL, "udp-batch: not a socket handle");
    return NULL;
  }
  return s;
}

static void finalize_sock(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  udp_sock *s = data;
  s->finalized = 1;
  // A handle dropped without close() still gives its fd back. (A started socket cannot get
  // here unclosed: start() holds a reference to the object that holds the handle.)
  if (!s->closed && s->fd >= 0) close(s->fd);
  // A poll handle still closing inside libuv frees the struct in its close callback.
  if (!s->poll_pending) free(s);
}

static void fill_addr(udp_sock *s, int i) {
  struct sockaddr_storage *ss = &s->rname[i];
  int32_t *m = &s->meta[i * META];
  unsigned char *a = &s->addr[i * 16];
  if (ss->ss_family == AF_INET) {
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    memcpy(a, &in->sin_addr, 4);
    m[1] = ntohs(in->sin_port);
    m[2] = 4;
  } else {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    memcpy(a, &in6->sin6_addr, 16);
    m[1] = ntohs(in6->sin6_port);
    m[2] = 6;
  }
}

static void flush_replies(udp_sock *s, int n) {
  int k = 0;
  for (int i = 0; i < n; i++) {
    int32_t len = s->meta[i * META + 3];
    if (len <= 0 || len > SLOT) continue;
    s->siov[k].iov_base = s->send + (size_t)i * SLOT;
    s->siov[k].iov_len = (size_t)len;
    memset(&s->smsg[k].msg_hdr, 0, sizeof(struct msghdr));
    s->smsg[k].msg_hdr.msg_name = &s->rname[i];
    s->smsg[k].msg_hdr.msg_namelen = s->rmsg[i].msg_hdr.msg_namelen;
    s->smsg[k].msg_hdr.msg_iov = &s->siov[k];
    s->smsg[k].msg_hdr.msg_iovlen = 1;
    k++;
  }
  int off = 0;
  while (off < k) {
    int r = sendmmsg(s->fd, s->smsg + off, (unsigned)(k - off), MSG_DONTWAIT);
    if (r > 0) {
      off += r;
      s->sent += r;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    // A full send buffer or an unreachable client: this reply is lost (the client retries),
    // the rest still go.
    s->send_errors++;
    off++;
  }
  if (s->flush_count) s->meta[BATCH * META]++;
}

static void on_readable(uv_poll_t *h, int status, int events) {
  udp_sock *s = h->data;
  if (status < 0 || !(events & UV_READABLE) || s->closed) return;
  napi_env env = s->env;
  for (int round = 0; round < ROUNDS && !s->closed; round++) {
    for (int i = 0; i < BATCH; i++) {
      s->riov[i].iov_base = s->recv + (size_t)i * SLOT;
      s->riov[i].iov_len = SLOT;
      memset(&s->rmsg[i].msg_hdr, 0, sizeof(struct msghdr));
      s->rmsg[i].msg_hdr.msg_name = &s->rname[i];
      s->rmsg[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
      s->rmsg[i].msg_hdr.msg_iov = &s->riov[i];
      s->rmsg[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(s->fd, s->rmsg, BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0) return;
    s->batches++;
    s->received += n;
    for (int i = 0; i < n; i++) {
      int32_t *m = &s->meta[i * META];
      m[0] = (s->rmsg[i].msg_hdr.msg_flags & MSG_TRUNC) ? -1 : (int32_t)s->rmsg[i].msg_len;
      if (m[0] < 0) s->truncated++;
      m[3] = 0;
      fill_addr(s, i);
    }
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    napi_value cb, recv_this, argv[1], result;
    napi_get_reference_value(env, s->on_batch, &cb);
    napi_get_reference_value(env, s->self, &recv_this);
    napi_create_int32(env, n, &argv[0]);
    // make_callback: process.nextTick and promise jobs queued by the batch run after it, as
    // after any other I/O callback.
    napi_status st = napi_make_callback(env, s->async_ctx, recv_this, cb, 1, argv, &result);
    if (st == napi_pending_exception) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err);
    }
    napi_close_handle_scope(env, scope);
    if (s->closed) return;
    flush_replies(s, n);
    if (n < BATCH) return;
  }
}

// `host` (an address literal) and `port` as a socket address of `family`; 0, or -1 when `host`
// is not an address of that family.
static int make_sockaddr(int family, const char *host, int port, struct sockaddr_storage *ss, socklen_t *sl) {
  memset(ss, 0, sizeof *ss);
  if (family == 6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    *sl = sizeof *a;
    return inet_pton(AF_INET6, host, &a->sin6_addr) == 1 ? 0 : -1;
  }
  struct sockaddr_in *a = (struct sockaddr_in *)ss;
  a->sin_family = AF_INET;
  a->sin_port = htons((uint16_t)port);
  *sl = sizeof *a;
  return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -1;
}

// open(family: 4|6, host: string, port: number, bufferSize: number, reusePort: boolean) -> handle
// The JavaScript handle of a bound UDP socket `fd` (closed here if that fails).
static napi_value wrap_fd(napi_env env, int fd, int family) {
  udp_sock *s = calloc(1, sizeof *s);
  if (!s) {
    close(fd);
    napi_throw_error(env, NULL, "udp-batch: out of memory");
    return NULL;
  }
  s->fd = fd;
  s->family = family;
  s->env = env;
  napi_value handle;
  CHECK(napi_create_external(env, s, finalize_sock, NULL, &handle));
  return handle;
}

static napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t family, port, bufsize;
  bool reuse = false;
  char host[64];
  size_t hl;
  CHECK(napi_get_value_int32(env, argv[0], &family));
  CHECK(napi_get_value_string_utf8(env, argv[1], host, sizeof host, &hl));
  CHECK(napi_get_value_int32(env, argv[2], &port));
  CHECK(napi_get_value_int32(env, argv[3], &bufsize));
  if (argc > 4) napi_get_value_bool(env, argv[4], &reuse);

  struct sockaddr_storage ss;
  socklen_t sl;
  if (make_sockaddr(family, host, port, &ss, &sl) != 0)
    return throw_errno(env, family == 6 ? "udp-batch: not an IPv6 address" : "udp-batch: not an IPv4 address", EINVAL);
  int fd = socket(family == 6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  int one = 1;
  if (family == 6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (reuse) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (bufsize > 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
  }
  if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "bind", e);
  }
  return wrap_fd(env, fd, family);
}

static int buffer_of(napi_env env, napi_value v, size_t want, void **out) {
  napi_typedarray_type tt;
  size_t len, off;
  napi_value ab;
  void *data;
  if (napi_get_typedarray_info(env, v, &tt, &len, &data, &ab, &off) != napi_ok) return 0;
  size_t elem = tt == napi_int32_array ? 4 : 1;
  if (len * elem != want) return 0;
  *out = data;
  return 1;
}

// start(handle, recv: Uint8Array, send: Uint8Array, meta: Int32Array, addr: Uint8Array,
//       onBatch(count), thisArg): the views must be exactly BATCH*SLOT, BATCH*SLOT,
//       BATCH*META int32 and BATCH*16 bytes.
static napi_value Start(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  udp_sock *s = unwrap(env, argv[0]);
  if (!s) return NULL;
  if (s->closed || s->started || argc < 7) return throw_errno(env, "udp-batch: start", EINVAL);
  void *recv, *send, *meta, *addr;
  // A caller that does not read the flush count (an older build of the JavaScript side) passes
  // the meta buffer without it.
  int counted = buffer_of(env, argv[3], ((size_t)BATCH * META + 1) * 4, &meta);
  if (!buffer_of(env, argv[1], (size_t)BATCH * SLOT, &recv) || !buffer_of(env, argv[2], (size_t)BATCH * SLOT, &send) ||
      !(counted || buffer_of(env, argv[3], (size_t)BATCH * META * 4, &meta)) || !buffer_of(env, argv[4], (size_t)BATCH * 16, &addr))
    return throw_errno(env, "udp-batch: start: buffers of the wrong size", EINVAL);
  for (int i = 0; i < 4; i++) CHECK(napi_create_reference(env, argv[1 + i], 1, &s->buf_refs[i]));
  s->recv = recv; s->send = send; s->meta = meta; s->addr = addr;
  s->flush_count = counted;
  CHECK(napi_create_reference(env, argv[5], 1, &s->on_batch));
  CHECK(napi_create_reference(env, argv[6], 1, &s->self));
  napi_value name;
  napi_create_string_utf8(env, "UDPBATCH", NAPI_AUTO_LENGTH, &name);
  CHECK(napi_async_init(env, NULL, name, &s->async_ctx));
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  if (uv_poll_init(loop, &s->poll, s->fd) != 0) return throw_errno(env, "uv_poll_init", EIO);
  s->poll.data = s;
  s->started = 1;
  uv_poll_start(&s->poll, UV_READABLE, on_readable);
  return NULL;
}

// sendTo(handle, bytes: Uint8Array, address: string, port: number) -> 0 or errno
static napi_value SendTo(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  udp_sock *s = unwrap(env, argv[0]);
  if (!s) return NULL;
  void *data;
  size_t len;
  napi_typedarray_type tt;
  napi_value ab;
  size_t off;
  CHECK(napi_get_typedarray_info(env, argv[1], &tt, &len, &data, &ab, &off));
  char host[64];
  size_t hl;
  int32_t port;
  CHECK(napi_get_value_string_utf8(env, argv[2], host, sizeof host, &hl));
  CHECK(napi_get_value_int32(env, argv[3], &port));
  struct sockaddr_storage ss;
  socklen_t sl;
  int err = make_sockaddr(s->family, host, port, &ss, &sl) == 0 ? 0 : EINVAL;
  if (!err && !s->closed) {
    ssize_t r;
    do r = sendto(s->fd, data, len, MSG_DONTWAIT, (struct sockaddr *)&ss, sl);
    while (r < 0 && errno == EINTR);
    if (r < 0) { err = errno; s->send_errors++; } else s->sent++;
  } else if (s->closed) err = EBADF;
  napi_value out;
  napi_create_int32(env, err, &out);
  return out;
}

// localPort(handle) -> number
static napi_value LocalPort(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  udp_sock *s = unwrap(env, argv[0]);
  if (!s) return NULL;
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  int port = 0;
  if (getsockname(s->fd, (struct sockaddr *)&ss, &sl) == 0)
    port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) : ntohs(((struct sockaddr_in *)&ss)->sin_port);
  napi_value out;
  napi_create_int32(env, port, &out);
  return out;
}

// stats(handle) -> [received, sent, sendErrors, batches, truncated]
static napi_value Stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  udp_sock *s = unwrap(env, argv[0]);
  if (!s) return NULL;
  napi_value arr, v;
  double vals[5] = {s->received, s->sent, s->send_errors, s->batches, s->truncated};
  CHECK(napi_create_array_with_length(env, 5, &arr));
  for (int i = 0; i < 5; i++) {
    napi_create_double(env, vals[i], &v);
    napi_set_element(env, arr, (uint32_t)i, v);
  }
  return arr;
}

static void on_poll_closed(uv_handle_t *h) {
  udp_sock *s = h->data;
  s->poll_pending = 0;
  if (s->finalized) free(s);
}

// close(handle): stops reading, closes the fd and lets go of the buffers; idempotent.
static napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  udp_sock *s = unwrap(env, argv[0]);
  if (!s || s->closed) return NULL;
  s->closed = 1;
  if (s->started) {
    uv_poll_stop(&s->poll);
    s->poll_pending = 1;
    uv_close((uv_handle_t *)&s->poll, on_poll_closed);
    napi_delete_reference(env, s->on_batch);
    napi_delete_reference(env, s->self);
    for (int i = 0; i < 4; i++) napi_delete_reference(env, s->buf_refs[i]);
    napi_async_destroy(env, s->async_ctx);
    s->recv = s->send = NULL; s->meta = NULL; s->addr = NULL;
  }
  close(s->fd);
  s->fd = -1;
  return NULL;
}

// adopt(fd: number, family: 4|6) -> handle: a socket another process opened and passed down
// (the primary of `workers`), used through a dup of the descriptor.
static napi_value Adopt(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd, family;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  CHECK(napi_get_value_int32(env, argv[1], &family));
  int type = 0;
  socklen_t tl = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 || type != SOCK_DGRAM) return throw_errno(env, "udp-batch: adopt: not a UDP socket", EINVAL);
  int own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (own < 0) return throw_errno(env, "udp-batch: adopt", errno);
  return wrap_fd(env, own, family);
}

// fileno(handle) -> the descriptor (to pass to child processes)
static napi_value Fileno(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  udp_sock *s = unwrap(env, argv[0]);
  if (!s) return NULL;
  napi_value out;
  napi_create_int32(env, s->fd, &out);
  return out;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"open", NULL, Open, NULL, NULL, NULL, napi_default, NULL},
    {"start", NULL, Start, NULL, NULL, NULL, napi_default, NULL},
    {"sendTo", NULL, SendTo, NULL, NULL, NULL, napi_default, NULL},
    {"localPort", NULL, LocalPort, NULL, NULL, NULL, napi_default, NULL},
    {"stats", NULL, Stats, NULL, NULL, NULL, napi_default, NULL},
    {"close", NULL, Close, NULL, NULL, NULL, napi_default, NULL},
    {"adopt", NULL, Adopt, NULL, NULL, NULL, napi_default, NULL},
    {"fileno", NULL, Fileno, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  napi_value v;
  napi_create_int32(env, BATCH, &v);
  napi_set_named_property(env, exports, "BATCH", v);
  napi_create_int32(env, SLOT, &v);
  napi_set_named_property(env, exports, "SLOT", v);
  napi_create_int32(env, META, &v);
  napi_set_named_property(env, exports, "META", v);
  // The meta buffer ends with the count of batches flushed (one int32 after BATCH x META).
  napi_create_int32(env, 1, &v);
  napi_set_named_property(env, exports, "FLUSH_COUNT", v);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
