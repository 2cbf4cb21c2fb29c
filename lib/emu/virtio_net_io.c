/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the device does with its queues (virtio 1.2, 5.1.6): transmit
 * (frames leave by the wire, or are counted and dropped in gen mode),
 * receive (frames from the wire, or generated, written behind a struct
 * virtio_net_hdr, over several buffers with MRG_RXBUF), and the control
 * queue (5.1.6.5: only VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET is understood).
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "virtio_net_private.h"

#define GEN_BURST_MAX 256 /* generator tokens saved up at most (or 2 ms) */
#define CTRL_MAX 64       /* bytes of a control command we read */

/* ---- transmit ---- */

/* One transmit chain: 1 done (pushed), 0 held back (channel full), -EIO. */
static int tx_one(struct vnet *vn, struct vnet_vq *q, struct vnet_chain *c,
		  unsigned pair)
{
	uint64_t flen = c->rlen >= VNET_HDR_LEN ? c->rlen - VNET_HDR_LEN : 0;
	uint8_t *dst;

	if (flen < VNET_FRAME_MIN || flen > VNET_FRAME_MAX) {
		vnet_count(&vn->st.tx_dropped, 1); /* runt, or more than we carry */
	} else if (vn->wire == VNET_WIRE_GEN) {
		vnet_count(&vn->st.tx_frames, 1); /* the sink */
		vnet_count(&vn->st.tx_bytes, flen);
	} else if (!vn->link_up || !vnet_wire_peer_ready(vn)) {
		vnet_count(&vn->st.tx_dropped, 1);
	} else {
		dst = vnet_wire_reserve(vn, (uint32_t)flen, (uint16_t)pair);
		if (dst == NULL) {
			vnet_vq_unpop(q, 1);
			return 0;
		}
		if (vnet_chain_read(vn, c, VNET_HDR_LEN, dst, (uint32_t)flen))
			return -EIO;
		vnet_wire_commit(vn);
		vnet_count(&vn->st.tx_frames, 1);
		vnet_count(&vn->st.tx_bytes, flen);
	}
	vnet_vq_push(vn, q, c->head, c->rlen, 0); /* a transmit buffer is not written */
	return 1;
}

/* Transmit queue of `pair`: chains handled (bounded). */
int vnet_tx(struct vnet *vn, unsigned pair)
{
	struct vnet_vq *q = &vn->vq[pdk_virtio_net_txq(pair)];
	struct vnet_chain c = {.seg = vn->scratch};
	unsigned n = vnet_vq_begin(vn, q), done = 0;
	int rc = 1;

	for (unsigned i = 0; i < PDK_MIN(n, (unsigned)VNET_BUDGET) && rc == 1; i++) {
		if (vnet_vq_pop(vn, q, &c))
			break;
		if (c.nw) {
			vnet_fail(vn, "virtqueue %u: transmit chain %u has a device-writable "
				  "buffer", pdk_virtio_net_txq(pair), c.head);
			break;
		}
		rc = tx_one(vn, q, &c, pair);
		done += rc == 1;
	}
	if (n)
		vnet_vq_flush(vn, q); /* always: the ring pointers are valid only now */
	return (int)done;
}

/* ---- receive ---- */

/* Take the next receive chain for a frame; its writable bytes. */
static int rx_chain(struct vnet *vn, struct vnet_vq *q, struct vnet_chain *c)
{
	if (vnet_vq_pop(vn, q, c))
		return -EIO;
	if (c->nr) {
		vnet_fail(vn, "virtqueue %u: receive chain %u has a device-readable buffer",
			  (unsigned)(q - vn->vq), c->head);
		return -EIO;
	}
	return 0;
}

/*
 * Write one frame behind its header into receive queue q: over several
 * chains with MRG_RXBUF, else into one big enough. The first chain's
 * header goes last, once num_buffers is known, and the used entries go in
 * chain order. 1 delivered, 0 no room yet (chains put back), -ENOSPC
 * dropped (does not fit), -EIO the device failed.
 */
static int deliver(struct vnet *vn, struct vnet_vq *q, const uint8_t *data,
		   uint32_t len)
{
	struct vnet_chain first = {.seg = vn->scratch};
	struct vnet_chain more = {.seg = vn->scratch + vn->qsize_max};
	struct pdk_virtio_net_hdr hdr = {.gso_type = PDK_VIRTIO_NET_HDR_GSO_NONE};
	bool mrg = vnet_has(vn, PDK_VIRTIO_NET_F_MRG_RXBUF);
	uint16_t avail = vnet_vq_pending(vn, q), nb = 0;
	uint64_t off = 0, total = (uint64_t)VNET_HDR_LEN + len;

	while (off < total) {
		struct vnet_chain *c = nb ? &more : &first;
		uint32_t take;

		if (nb == avail || (nb && !mrg)) {
			vnet_vq_unpop(q, nb);
			return nb == avail ? 0 : -ENOSPC;
		}
		if (rx_chain(vn, q, c))
			return -EIO;
		take = (uint32_t)PDK_MIN(c->wlen, total - off);
		vn->pend[nb++] = (struct vnet_pend){c->head, (uint32_t)PDK_MIN(c->wlen,
					(uint64_t)UINT32_MAX), take};
		if (nb == 1 && take < VNET_HDR_LEN) {
			vnet_vq_unpop(q, nb);
			return -ENOSPC;
		}
		if (nb == 1 ? vnet_chain_write(vn, c, VNET_HDR_LEN, data, take - VNET_HDR_LEN) :
			      vnet_chain_write(vn, c, 0, data + (off - VNET_HDR_LEN), take))
			return -EIO;
		off += take;
	}
	hdr.num_buffers = nb;
	if (vnet_chain_write(vn, &first, 0, &hdr, VNET_HDR_LEN))
		return -EIO;
	for (uint16_t i = 0; i < nb; i++)
		vnet_vq_push(vn, q, vn->pend[i].head, vn->pend[i].cap, vn->pend[i].len);
	vnet_count(&vn->st.rx_frames, 1);
	vnet_count(&vn->st.rx_bytes, len);
	return 1;
}

/*
 * One frame into the receive queue it steers to (the pair it left the
 * sender by, modulo the pairs in use): 1 done (delivered, or dropped
 * because it cannot be), 0 wait for buffers, -EIO the device failed.
 */
static int rx_one(struct vnet *vn, uint16_t pair, const uint8_t *data, uint32_t len)
{
	struct vnet_vq *q = &vn->vq[pdk_virtio_net_rxq(pair % vn->active_pairs)];
	int rc;

	if (!q->enabled || !vn->link_up) {
		vnet_count(&vn->st.rx_dropped, 1); /* nowhere to go */
		return 1;
	}
	if (q->armed)
		return 0; /* out of buffers: waiting for the driver's kick */
	if (!vnet_vq_ready(vn, q))
		return vn->failed ? -EIO : 0;
	rc = deliver(vn, q, data, len);
	if (rc == 0 && !vnet_vq_idle(vn, q))
		rc = deliver(vn, q, data, len); /* buffers came meanwhile */
	if (rc == 0 || rc == -EIO)
		return rc;
	if (rc == -ENOSPC)
		vnet_count(&vn->st.rx_dropped, 1);
	vnet_vq_busy(vn, q);
	return 1;
}

static void rx_flush(struct vnet *vn)
{
	for (unsigned p = 0; p < vn->active_pairs; p++)
		vnet_vq_flush(vn, &vn->vq[pdk_virtio_net_rxq(p)]);
}

/* Frames the generator may send now: a token bucket at gen-pps. */
static unsigned gen_budget(struct vnet *vn)
{
	struct timespec ts;
	int64_t now;
	double cap;

	if (vn->gen_pps == 0)
		return VNET_BUDGET;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	cap = PDK_MAX((double)GEN_BURST_MAX, (double)vn->gen_pps / 500.0);
	if (vn->gen_last_ns)
		vn->gen_tokens += (double)(now - vn->gen_last_ns) * (double)vn->gen_pps / 1e9;
	vn->gen_last_ns = now;
	vn->gen_tokens = PDK_MIN(vn->gen_tokens, cap);
	return (unsigned)vn->gen_tokens;
}

/* The generator: frames of gen-size bytes, each with its sequence number
 * after the Ethernet header. At a set rate, frames without a buffer are
 * dropped (as on a wire); flat out, it sends what the buffers take. */
static int gen(struct vnet *vn)
{
	unsigned n = gen_budget(vn), done = 0;
	int rc = 1;

	for (unsigned i = 0; i < n && rc >= 0; i++) {
		memcpy(vn->frame + VNET_FRAME_MIN, &vn->gen_seq, sizeof(vn->gen_seq));
		rc = rx_one(vn, (uint16_t)(vn->gen_seq % vn->active_pairs), vn->frame,
			    vn->gen_size);
		if (rc == 0 && vn->gen_pps == 0)
			break;
		if (rc == 0)
			vnet_count(&vn->st.rx_dropped, 1);
		vn->gen_seq++;
		vn->gen_tokens -= 1.0;
		done += rc > 0;
	}
	rx_flush(vn);
	return (int)done;
}

/* Receive: frames from the wire (or the generator) into receive queues. */
int vnet_rx(struct vnet *vn)
{
	struct vnet_frame f;
	int done = 0, rc = 1;

	if (vn->wire == VNET_WIRE_GEN)
		return gen(vn);
	while (done < VNET_BUDGET && rc > 0 && vnet_wire_peek(vn, &f)) {
		rc = rx_one(vn, f.pair, f.data, f.len);
		if (rc > 0) {
			vnet_wire_consume(vn);
			done++;
		}
	}
	rx_flush(vn);
	return done;
}

/* ---- control queue ---- */

/* Run one command (class, command, data); the ack byte. */
static uint8_t ctrl_exec(struct vnet *vn, const uint8_t *cmd, uint64_t len)
{
	unsigned pairs;

	if (len != 4 || cmd[0] != PDK_VIRTIO_NET_CTRL_MQ ||
	    cmd[1] != PDK_VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET ||
	    !vnet_has(vn, PDK_VIRTIO_NET_F_MQ)) {
		VNET_LOG(INFO, vn, "control command class %u cmd %u (%llu bytes) not "
			 "supported", cmd[0], cmd[1], (unsigned long long)len);
		return PDK_VIRTIO_NET_ERR;
	}
	pairs = (unsigned)cmd[2] | (unsigned)cmd[3] << 8;
	if (pairs < PDK_VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || pairs > vn->max_pairs) {
		VNET_LOG(INFO, vn, "MQ_VQ_PAIRS_SET %u refused: 1..%u", pairs, vn->max_pairs);
		return PDK_VIRTIO_NET_ERR;
	}
	vn->active_pairs = (uint16_t)pairs;
	VNET_LOG(INFO, vn, "%u queue pair(s) in use", pairs);
	return PDK_VIRTIO_NET_OK;
}

/* One control chain: readable class, command and data, one writable ack. */
static int ctrl_one(struct vnet *vn, struct vnet_vq *q, struct vnet_chain *c)
{
	uint8_t cmd[CTRL_MAX], ack = PDK_VIRTIO_NET_ERR;

	if (c->rlen < sizeof(struct pdk_virtio_net_ctrl_hdr) || c->wlen < 1) {
		vnet_fail(vn, "control command at chain %u: %llu readable and %llu "
			  "writable bytes, want a header and an ack", c->head,
			  (unsigned long long)c->rlen, (unsigned long long)c->wlen);
		return -EIO;
	}
	if (c->rlen <= CTRL_MAX) {
		if (vnet_chain_read(vn, c, 0, cmd, (uint32_t)c->rlen))
			return -EIO;
		ack = ctrl_exec(vn, cmd, c->rlen);
	}
	if (vnet_chain_write(vn, c, 0, &ack, 1))
		return -EIO;
	vnet_vq_push(vn, q, c->head, c->wlen, 1);
	vnet_count(&vn->st.ctrl_cmds, 1);
	return 0;
}

int vnet_ctrl(struct vnet *vn)
{
	int qi = vnet_ctrl_vq(vn);
	struct vnet_chain c = {.seg = vn->scratch};
	unsigned n = qi < 0 ? 0 : vnet_vq_begin(vn, &vn->vq[qi]), done = 0;

	for (; done < PDK_MIN(n, (unsigned)VNET_BUDGET); done++)
		if (vnet_vq_pop(vn, &vn->vq[qi], &c) || ctrl_one(vn, &vn->vq[qi], &c))
			break;
	if (n)
		vnet_vq_flush(vn, &vn->vq[qi]);
	return (int)done;
}
