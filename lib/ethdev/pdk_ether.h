/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ethernet addresses and the Ethernet header (IEEE 802.3 clause 3.2).
 */
#ifndef PDK_ETHER_H
#define PDK_ETHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <pdk_common.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PDK_ETHER_ADDR_LEN 6
#define PDK_ETHER_HDR_LEN 14
#define PDK_ETHER_MIN_LEN 64   /* frame with FCS */
#define PDK_ETHER_CRC_LEN 4
#define PDK_ETHER_MTU 1500
/* "aa:bb:cc:dd:ee:ff" and its terminating NUL. */
#define PDK_ETHER_ADDR_FMT_SIZE 18

#define PDK_ETHER_TYPE_IPV4 0x0800
#define PDK_ETHER_TYPE_ARP 0x0806
#define PDK_ETHER_TYPE_VLAN 0x8100
#define PDK_ETHER_TYPE_IPV6 0x86dd

struct pdk_ether_addr {
	uint8_t addr_bytes[PDK_ETHER_ADDR_LEN];
} __attribute__((aligned(2)));

/* Destination, source, EtherType (big-endian on the wire). */
struct pdk_ether_hdr {
	struct pdk_ether_addr dst_addr;
	struct pdk_ether_addr src_addr;
	uint16_t ether_type;
} __attribute__((aligned(2)));

static_assert(sizeof(struct pdk_ether_addr) == PDK_ETHER_ADDR_LEN,
	      "Ethernet address is 6 bytes");
static_assert(sizeof(struct pdk_ether_hdr) == PDK_ETHER_HDR_LEN,
	      "Ethernet header is 14 bytes");

static inline bool pdk_ether_addr_equal(const struct pdk_ether_addr *a,
					const struct pdk_ether_addr *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

static inline bool pdk_ether_addr_is_zero(const struct pdk_ether_addr *a)
{
	static const struct pdk_ether_addr zero;

	return pdk_ether_addr_equal(a, &zero);
}

/* The group bit: the first bit on the wire (LSB of the first byte). */
static inline bool pdk_ether_addr_is_multicast(const struct pdk_ether_addr *a)
{
	return (a->addr_bytes[0] & 0x01) != 0;
}

/* A station may use it: not group, not all zeros. */
static inline bool pdk_ether_addr_is_valid_assigned(const struct pdk_ether_addr *a)
{
	return !pdk_ether_addr_is_multicast(a) && !pdk_ether_addr_is_zero(a);
}

/* Write "aa:bb:cc:dd:ee:ff" into buf (size >= PDK_ETHER_ADDR_FMT_SIZE). */
PDK_API void pdk_ether_addr_format(char *buf, size_t size,
				   const struct pdk_ether_addr *a);

/* Parse "aa:bb:cc:dd:ee:ff" (or '-' separators): 0 or -EINVAL. */
PDK_API int pdk_ether_addr_parse(const char *s, struct pdk_ether_addr *a);

#ifdef __cplusplus
}
#endif
#endif /* PDK_ETHER_H */
