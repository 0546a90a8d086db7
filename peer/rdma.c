// SPDX-License-Identifier: MIT
/*
 * See rdma.h. One RC queue pair per link, with its own completion queue
 * and channel; links only ever post RDMA READs, so they need no receive
 * buffers. The CM's events are read one at a time, copied and acked at
 * once, then handled, so that an id can be destroyed from its handler.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#include "errmsg.h"
#include "list.h"
#include "rdma.h"

#define PRIV_MAGIC	0x4452434dU	/* "MCRD" */
#define PRIV_VERSION	1
#define MAX_READS	32		/* in flight per link */
/*
 * The queue pair's local ACK timeout, 4.096 us x 2^14 = 67 ms: how long a
 * READ whose response lost a packet waits before it is sent again. The
 * connection manager's own default for RoCE comes from its packet lifetime,
 * 2^17 or more (0.5 s): a drop then stalls a READ that long, and Soft-RoCE
 * drops under load.
 */
#define ACK_TIMEOUT	14
#define RESOLVE_MS	2000

/* A connection request's private data. */
struct priv {
	uint32_t magic;
	uint16_t version;
	uint16_t reserved;
	uint8_t token[MC_RDMA_TOKEN_SIZE];
};

struct read_op {
	mc_rdma_read_cb cb;
	void *arg;
	bool busy;
};

enum link_state { L_CONNECTING, L_UP, L_DOWN };

struct mc_rdma_link {
	struct mc_list link;		/* r->links */
	struct mc_rdma *r;
	struct rdma_cm_id *id;
	struct ibv_comp_channel *cc;
	struct ibv_cq *cq;
	bool has_qp;
	enum link_state state;
	void *arg;
	uint8_t token[MC_RDMA_TOKEN_SIZE];
	struct read_op ops[MAX_READS];
	struct mc_timer later;		/* a close before the link is up */
};

struct mc_rdma {
	struct mc_loop *loop;
	struct rdma_event_channel *ch;
	struct rdma_cm_id *listen_id;
	struct ibv_context *verbs;
	struct ibv_pd *pd;
	struct ibv_mr *mr;
	struct sockaddr_storage src;	/* ours, port 0: outgoing links use our device */
	uint8_t init_depth, resp_res;	/* RDMA READs in flight, each way */
	uint8_t *mem;
	size_t len;
	uint16_t port;
	const struct mc_rdma_ops *ops;
	void *arg;
	struct mc_list links;
	bool dead;			/* the device went away: TCP only from then on */
	struct mc_rdma_stats st;
};

static int numeric_addr(const char *host, const char *port, struct sockaddr_storage *out)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *ai;

	if (getaddrinfo(host, port, &hints, &ai))
		return -EINVAL;
	memcpy(out, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	return 0;
}

/* Split numeric "HOST:PORT" or "[HOST]:PORT" into out. */
static int parse_addr(const char *s, struct sockaddr_storage *out)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	size_t n;

	if (!colon || colon == s)
		return -EINVAL;
	n = (size_t)(colon - s);
	if (*s == '[' && colon[-1] == ']') {
		s++;
		n -= 2;
	}
	if (n >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = 0;
	return numeric_addr(host, colon + 1, out);
}

static void set_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* ---- links ---- */

static void free_link(struct mc_rdma_link *l)
{
	struct mc_rdma *r = l->r;

	mc_timer_cancel(r->loop, &l->later);
	if (l->has_qp)
		rdma_destroy_qp(l->id);
	if (l->cq)
		ibv_destroy_cq(l->cq);
	if (l->cc) {
		mc_loop_forget(r->loop, l->cc->fd);
		ibv_destroy_comp_channel(l->cc);
	}
	if (l->id)
		rdma_destroy_id(l->id);
	mc_list_del(&l->link);
	free(l);
}

/* The link is gone: its reads fail, its owner is told, it is freed. */
static void link_down(struct mc_rdma_link *l, int err)
{
	struct mc_rdma *r = l->r;
	bool was_up = l->state == L_UP;

	if (l->state == L_DOWN)
		return;
	l->state = L_DOWN;
	for (size_t i = 0; i < MAX_READS; i++) {
		if (l->ops[i].busy) {
			l->ops[i].busy = false;
			l->ops[i].cb(l->ops[i].arg, err);
		}
	}
	if (was_up)
		r->st.links_down++;
	if (r->ops->down)
		r->ops->down(r->arg, l, l->arg, err);
	free_link(l);
}

static void cq_ready(void *arg, int fd, unsigned int revents);

/* A completion queue and queue pair for l on its id's device. */
static int setup_qp(struct mc_rdma_link *l)
{
	struct mc_rdma *r = l->r;
	struct ibv_qp_init_attr qa = {
		.qp_type = IBV_QPT_RC,
		.sq_sig_all = 1,
		.cap = { .max_send_wr = MAX_READS, .max_recv_wr = 1,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	int ret;

	/* One protection domain and memory region: the device must be ours. */
	if (l->id->verbs != r->verbs)
		return -ENODEV;
	l->cc = ibv_create_comp_channel(r->verbs);
	if (!l->cc)
		return -errno;
	set_nonblock(l->cc->fd);
	l->cq = ibv_create_cq(r->verbs, MAX_READS + 1, l, l->cc, 0);
	if (!l->cq)
		return -errno;
	if (ibv_req_notify_cq(l->cq, 0))
		return -EIO;
	ret = mc_loop_watch(r->loop, l->cc->fd, POLLIN, cq_ready, l);
	if (ret)
		return ret;
	qa.send_cq = qa.recv_cq = l->cq;
	if (rdma_create_qp(l->id, r->pd, &qa))
		return -errno;
	l->has_qp = true;
	return 0;
}

static struct mc_rdma_link *new_link(struct mc_rdma *r, void *arg)
{
	struct mc_rdma_link *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->r = r;
	l->arg = arg;
	l->state = L_CONNECTING;
	mc_list_add_tail(&r->links, &l->link);
	return l;
}

/* Before rdma_connect() or rdma_accept(): the timeout of the QP the id makes. */
static int set_ack_timeout(struct rdma_cm_id *id)
{
	uint8_t t = ACK_TIMEOUT;

	return rdma_set_option(id, RDMA_OPTION_ID, RDMA_OPTION_ID_ACK_TIMEOUT, &t, sizeof(t));
}

static void conn_param(const struct mc_rdma *r, struct rdma_conn_param *p)
{
	memset(p, 0, sizeof(*p));
	p->initiator_depth = r->init_depth;
	p->responder_resources = r->resp_res;
	p->retry_count = 7;
	p->rnr_retry_count = 7;
}

int mc_rdma_connect(struct mc_rdma *r, const char *addr, const uint8_t token[MC_RDMA_TOKEN_SIZE],
		    void *link_arg, struct mc_rdma_link **out)
{
	struct sockaddr_storage dst;
	struct mc_rdma_link *l;

	if (r->dead)
		return -ENODEV;
	if (parse_addr(addr, &dst))
		return -EINVAL;
	l = new_link(r, link_arg);
	if (!l)
		return -ENOMEM;
	memcpy(l->token, token, MC_RDMA_TOKEN_SIZE);
	if (rdma_create_id(r->ch, &l->id, l, RDMA_PS_TCP) ||
	    rdma_resolve_addr(l->id, (struct sockaddr *)&r->src, (struct sockaddr *)&dst,
			      RESOLVE_MS)) {
		int ret = -errno;

		free_link(l);
		return ret ? ret : -EIO;
	}
	r->st.connects++;
	*out = l;
	return 0;
}

static void close_later(void *arg)
{
	link_down(arg, -ECANCELED);
}

void mc_rdma_link_close(struct mc_rdma_link *l)
{
	if (l->state == L_DOWN)
		return;
	/* Up: the CM says DISCONNECTED to both sides. Else: end it from the loop. */
	if (l->state != L_UP || rdma_disconnect(l->id))
		mc_timer_arm(l->r->loop, &l->later, 0, close_later, l);
}

int mc_rdma_read(struct mc_rdma_link *l, void *dst, uint32_t len, uint64_t remote_addr,
		 uint32_t rkey, mc_rdma_read_cb cb, void *arg)
{
	struct mc_rdma *r = l->r;
	uint8_t *p = dst;
	struct ibv_sge sge;
	struct ibv_send_wr wr, *bad;
	size_t i;

	if (l->state != L_UP)
		return -ENOTCONN;
	if (!len || p < r->mem || p > r->mem + r->len || len > (size_t)(r->mem + r->len - p))
		return -EINVAL;
	for (i = 0; i < MAX_READS && l->ops[i].busy; i++)
		;
	if (i == MAX_READS)
		return -EAGAIN;
	sge = (struct ibv_sge){ .addr = (uintptr_t)dst, .length = len, .lkey = r->mr->lkey };
	memset(&wr, 0, sizeof(wr));
	wr.wr_id = i;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = IBV_WR_RDMA_READ;
	wr.send_flags = IBV_SEND_SIGNALED;
	wr.wr.rdma.remote_addr = remote_addr;
	wr.wr.rdma.rkey = rkey;
	if (ibv_post_send(l->id->qp, &wr, &bad))
		return -EIO;
	l->ops[i] = (struct read_op){ .cb = cb, .arg = arg, .busy = true };
	r->st.reads++;
	r->st.read_bytes += len;
	return 0;
}

/* Completions of l's reads. */
static void cq_ready(void *arg, int fd, unsigned int revents)
{
	struct mc_rdma_link *l = arg;
	struct ibv_wc wc[8];
	struct ibv_cq *cq;
	void *ctx;
	int n, err = 0;

	(void)fd;
	(void)revents;
	if (ibv_get_cq_event(l->cc, &cq, &ctx))
		return;		/* spurious: nothing queued */
	ibv_ack_cq_events(cq, 1);
	ibv_req_notify_cq(cq, 0);
	/* After re-arming: a completion that came in between is polled here. */
	while ((n = ibv_poll_cq(cq, 8, wc)) > 0) {
		for (int i = 0; i < n; i++) {
			struct read_op *op;
			int st = wc[i].status == IBV_WC_SUCCESS ? 0 : -EIO;

			if (wc[i].wr_id >= MAX_READS || !l->ops[wc[i].wr_id].busy)
				continue;
			op = &l->ops[wc[i].wr_id];
			op->busy = false;
			if (st) {
				l->r->st.read_errors++;
				err = st;
			}
			op->cb(op->arg, st);
		}
	}
	/* An error puts the queue pair in the error state: the link is done. */
	if (err || n < 0)
		link_down(l, err ? err : -EIO);
}

/* ---- the connection manager ---- */

static void on_connect_request(struct mc_rdma *r, struct rdma_cm_id *id, const void *pd,
			       uint8_t pd_len)
{
	struct rdma_conn_param p;
	struct mc_rdma_link *l;
	struct priv priv;
	void *link_arg = NULL;

	if (pd_len < sizeof(priv))
		goto reject;
	memcpy(&priv, pd, sizeof(priv));
	if (priv.magic != PRIV_MAGIC || priv.version != PRIV_VERSION || priv.reserved ||
	    !r->ops->accept(r->arg, priv.token, &link_arg))
		goto reject;
	l = new_link(r, link_arg);
	if (!l)
		goto reject;
	l->id = id;
	id->context = l;
	conn_param(r, &p);
	if (setup_qp(l) || set_ack_timeout(id) || rdma_accept(id, &p)) {
		/* The id goes with the link; the peer sees the connection fail. */
		link_down(l, -EIO);
		return;
	}
	r->st.accepted++;
	return;
reject:
	r->st.rejected++;
	rdma_reject(id, NULL, 0);
	rdma_destroy_id(id);
}

static void on_link_event(struct mc_rdma_link *l, enum rdma_cm_event_type ev, int status)
{
	struct mc_rdma *r = l->r;
	struct rdma_conn_param p;
	struct priv priv;
	int ret;

	switch (ev) {
	case RDMA_CM_EVENT_ADDR_RESOLVED:
		ret = setup_qp(l);
		if (!ret && rdma_resolve_route(l->id, RESOLVE_MS))
			ret = -errno;
		if (ret)
			link_down(l, ret);
		return;
	case RDMA_CM_EVENT_ROUTE_RESOLVED:
		priv = (struct priv){ .magic = PRIV_MAGIC, .version = PRIV_VERSION };
		memcpy(priv.token, l->token, sizeof(priv.token));
		conn_param(r, &p);
		p.private_data = &priv;
		p.private_data_len = sizeof(priv);
		if (set_ack_timeout(l->id) || rdma_connect(l->id, &p))
			link_down(l, -errno);
		return;
	case RDMA_CM_EVENT_ESTABLISHED:
		l->state = L_UP;
		r->st.links_up++;
		if (r->ops->up)
			r->ops->up(r->arg, l, l->arg);
		return;
	case RDMA_CM_EVENT_REJECTED:
		link_down(l, -ECONNREFUSED);
		return;
	case RDMA_CM_EVENT_DISCONNECTED:
		link_down(l, -ECONNRESET);
		return;
	case RDMA_CM_EVENT_ADDR_ERROR:
	case RDMA_CM_EVENT_ROUTE_ERROR:
	case RDMA_CM_EVENT_UNREACHABLE:
	case RDMA_CM_EVENT_CONNECT_ERROR:
	case RDMA_CM_EVENT_DEVICE_REMOVAL:
		link_down(l, status < 0 ? status : -EHOSTUNREACH);
		return;
	default:
		return;
	}
}

/* Every link down (err), then what this node holds on the device. */
static void release_device(struct mc_rdma *r, int err)
{
	struct mc_rdma_link *l, *tmp;

	mc_list_for_each_safe(l, tmp, &r->links, link)
		link_down(l, err);
	if (r->mr)
		ibv_dereg_mr(r->mr);
	if (r->pd)
		ibv_dealloc_pd(r->pd);
	if (r->listen_id)
		rdma_destroy_id(r->listen_id);
	r->mr = NULL;
	r->pd = NULL;
	r->listen_id = NULL;
}

/*
 * The device is being removed (rdma link delete, a driver unload): let go
 * of everything on it, or the removal waits for this process.
 */
static void device_gone(struct mc_rdma *r)
{
	if (r->dead)
		return;
	r->dead = true;
	release_device(r, -ENODEV);
}

static void cm_ready(void *arg, int fd, unsigned int revents)
{
	struct mc_rdma *r = arg;
	struct rdma_cm_event *e;

	(void)fd;
	(void)revents;
	while (!rdma_get_cm_event(r->ch, &e)) {
		enum rdma_cm_event_type ev = e->event;
		struct rdma_cm_id *id = e->id;
		int status = e->status;
		uint8_t pd[64] = { 0 };
		uint8_t pd_len = 0;

		if (ev == RDMA_CM_EVENT_CONNECT_REQUEST && e->param.conn.private_data) {
			pd_len = e->param.conn.private_data_len;
			if (pd_len > sizeof(pd))
				pd_len = sizeof(pd);
			memcpy(pd, e->param.conn.private_data, pd_len);
		}
		rdma_ack_cm_event(e);
		if (ev == RDMA_CM_EVENT_DEVICE_REMOVAL)
			device_gone(r);
		else if (ev == RDMA_CM_EVENT_CONNECT_REQUEST)
			on_connect_request(r, id, pd, pd_len);
		else if (id != r->listen_id && id->context)
			on_link_event(id->context, ev, status);
	}
}

/* ---- the whole ---- */

static int setup(struct mc_rdma *r, const char *listen, char *err, size_t errlen)
{
	struct sockaddr_storage sa;
	struct ibv_device_attr da;

	if (parse_addr(listen, &sa))
		return mc_errf(err, errlen, -EINVAL, "rdma: '%s' is not a numeric address:port",
			       listen);
	r->ch = rdma_create_event_channel();
	if (!r->ch)
		return mc_errf(err, errlen, -errno, "rdma: no event channel: %s (is rdma_ucm loaded?)",
			       strerror(errno));
	set_nonblock(r->ch->fd);
	if (rdma_create_id(r->ch, &r->listen_id, NULL, RDMA_PS_TCP))
		return mc_errf(err, errlen, -errno, "rdma: %s", strerror(errno));
	if (rdma_bind_addr(r->listen_id, (struct sockaddr *)&sa) || !r->listen_id->verbs)
		return mc_errf(err, errlen, -ENODEV, "rdma: no RDMA device holds %s", listen);
	r->verbs = r->listen_id->verbs;
	if (ibv_query_device(r->verbs, &da))
		return mc_errf(err, errlen, -EIO, "rdma: cannot query the device");
	r->init_depth = (uint8_t)(da.max_qp_init_rd_atom < MAX_READS ? da.max_qp_init_rd_atom : MAX_READS);
	r->resp_res = (uint8_t)(da.max_qp_rd_atom < MAX_READS ? da.max_qp_rd_atom : MAX_READS);
	r->pd = ibv_alloc_pd(r->verbs);
	if (!r->pd)
		return mc_errf(err, errlen, -EIO, "rdma: cannot allocate a protection domain");
	r->mr = ibv_reg_mr(r->pd, r->mem, r->len, IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ);
	if (!r->mr)
		return mc_errf(err, errlen, -errno, "rdma: cannot register %zu bytes: %s", r->len,
			       strerror(errno));
	if (rdma_listen(r->listen_id, 64))
		return mc_errf(err, errlen, -errno, "rdma: cannot listen on %s: %s", listen,
			       strerror(errno));
	r->port = ntohs(rdma_get_src_port(r->listen_id));
	/* Outgoing links bind to this address, any port: the same device. */
	if (sa.ss_family == AF_INET)
		((struct sockaddr_in *)&sa)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&sa)->sin6_port = 0;
	r->src = sa;
	return mc_loop_watch(r->loop, r->ch->fd, POLLIN, cm_ready, r);
}

int mc_rdma_new(struct mc_rdma **out, struct mc_loop *loop, const char *listen,
		void *mem, size_t len, const struct mc_rdma_ops *ops, void *arg,
		char *err, size_t errlen)
{
	struct mc_rdma *r = calloc(1, sizeof(*r));
	int ret;

	if (!r)
		return mc_errf(err, errlen, -ENOMEM, "out of memory");
	r->loop = loop;
	r->mem = mem;
	r->len = len;
	r->ops = ops;
	r->arg = arg;
	mc_list_init(&r->links);
	ret = setup(r, listen, err, errlen);
	if (ret) {
		mc_rdma_free(r);
		return ret;
	}
	*out = r;
	return 0;
}

void mc_rdma_free(struct mc_rdma *r)
{
	if (!r)
		return;
	release_device(r, -ECANCELED);
	if (r->ch) {
		mc_loop_forget(r->loop, r->ch->fd);
		rdma_destroy_event_channel(r->ch);
	}
	free(r);
}

uint32_t mc_rdma_rkey(const struct mc_rdma *r)
{
	return r->mr ? r->mr->rkey : 0;
}

bool mc_rdma_alive(const struct mc_rdma *r)
{
	return !r->dead;
}

uint16_t mc_rdma_port(const struct mc_rdma *r)
{
	return r->port;
}

const struct mc_rdma_stats *mc_rdma_stats(const struct mc_rdma *r)
{
	return &r->st;
}
