/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet buffers (mbufs): a struct pdk_mbuf, an optional private area and
 * a data buffer, all in one mempool object, with the buffer's IOVA known.
 *
 *   struct pdk_mempool *mp = pdk_pktmbuf_pool_create("rx", 8191, 256, 0,
 *                              PDK_MBUF_DEFAULT_BUF_SIZE, PDK_SOCKET_ANY);
 *   struct pdk_mbuf *m = pdk_pktmbuf_alloc(mp);     // NULL, errno ENOENT
 *   char *p = pdk_pktmbuf_append(m, 60);            // NULL if no room
 *   ... hand pdk_pktmbuf_iova(m) and m->data_len to a device ...
 *   pdk_pktmbuf_free(m);                           // every segment
 *
 *   buf_addr                data_off         data_len
 *   |<------ headroom ------>|<--- data --->|<--- tailroom --->|
 *   |<-------------------------- buf_len --------------------->|
 *
 * A free mbuf in its pool has refcnt 1, nb_segs 1 and next NULL. Segments
 * of a packet are chained through `next`; the first segment carries
 * nb_segs and pkt_len (the sum of every data_len).
 */
#ifndef PDK_MBUF_H
#define PDK_MBUF_H

#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#include <pdk_common.h>
#include <pdk_mempool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PDK_PKTMBUF_HEADROOM 128
#define PDK_MBUF_DEFAULT_DATAROOM 2048
#define PDK_MBUF_DEFAULT_BUF_SIZE (PDK_MBUF_DEFAULT_DATAROOM + PDK_PKTMBUF_HEADROOM)
#define PDK_MBUF_PORT_INVALID UINT16_MAX
#define PDK_MBUF_PRIV_ALIGN 8 /* priv_size must be a multiple of this */

struct pdk_mbuf {
	/* First cache line: what receive and transmit touch. */
	void *buf_addr;        /* start of the buffer (virtual) */
	pdk_iova_t buf_iova;   /* IOVA of buf_addr */
	uint16_t data_off;     /* data starts at buf_addr + data_off */
	_Atomic uint16_t refcnt;
	uint16_t nb_segs;      /* segments in the chain (first segment) */
	uint16_t port;         /* input port, PDK_MBUF_PORT_INVALID if none */
	uint64_t ol_flags;     /* offload flags */
	uint32_t packet_type;  /* L2/L3/L4 type bits */
	uint32_t pkt_len;      /* sum of data_len over the chain */
	uint16_t data_len;     /* bytes of data in this segment */
	uint16_t vlan_tci;
	union {
		uint32_t rss;                   /* RSS hash */
		struct { uint32_t lo, hi; } fdir;
	} hash;
	uint16_t vlan_tci_outer;
	uint16_t buf_len;      /* bytes of the buffer */
	struct pdk_mempool *pool;

	/* Second cache line: chaining and transmit offload details. */
	alignas(PDK_CACHE_LINE) struct pdk_mbuf *next;
	uint8_t l2_len;
	uint8_t l4_len;
	uint16_t l3_len;
	uint16_t tso_segsz;
	uint16_t outer_l3_len;
	uint8_t outer_l2_len;
	uint8_t reserved0;
	uint16_t priv_size;    /* bytes between this struct and buf_addr */
	uint16_t reserved1;
	uint64_t udata64;      /* for the application */
	uint32_t dynfield[6];  /* for the application or drivers */
};

static_assert(offsetof(struct pdk_mbuf, pool) + sizeof(void *) <= 64,
	      "hot fields in the first cache line");
static_assert(offsetof(struct pdk_mbuf, refcnt) == 18 &&
		      offsetof(struct pdk_mbuf, pkt_len) == 36 &&
		      offsetof(struct pdk_mbuf, buf_len) == 54,
	      "pdk_mbuf layout");
static_assert(offsetof(struct pdk_mbuf, next) == 64, "next starts line 2");
static_assert(sizeof(struct pdk_mbuf) == 128, "pdk_mbuf is two cache lines");

/* The private area of an mbuf pool. */
struct pdk_pktmbuf_pool_private {
	uint16_t mbuf_data_room_size; /* buf_len of each mbuf */
	uint16_t mbuf_priv_size;      /* private bytes after struct pdk_mbuf */
	uint32_t flags;
};

/*
 * Create a pool of n mbufs, each with priv_size private bytes (a multiple
 * of PDK_MBUF_PRIV_ALIGN) and a buffer of data_room_size bytes (at most
 * UINT16_MAX, headroom included: PDK_MBUF_DEFAULT_BUF_SIZE is usual).
 * cache_size as for pdk_mempool_create(). NULL with errno as there.
 */
PDK_API struct pdk_mempool *
pdk_pktmbuf_pool_create(const char *name, unsigned n, unsigned cache_size,
			uint16_t priv_size, uint16_t data_room_size, int socket);

/*
 * Check an mbuf's invariants (pool, buffer bounds, lengths, refcnt; for a
 * packet head also nb_segs and pkt_len over the chain). Returns 0, or
 * -EINVAL with *reason (may be NULL) saying which.
 */
PDK_API int pdk_mbuf_check(const struct pdk_mbuf *m, bool is_header,
			   const char **reason);

#include <pdk_mbuf_inline.h>

#ifdef __cplusplus
}
#endif
#endif /* PDK_MBUF_H */
