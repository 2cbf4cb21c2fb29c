/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Namespaces and the NVM command set: Read, Write, Flush, Write Zeroes.
 *
 * Namespaces lie back to back in one mapping: anonymous memory, or a file
 * mapped shared (so a Flush is an fdatasync and the data outlives the
 * process). Both outlive controller resets and clients.
 *
 * Data moves between a command's PRPs (4.3) and namespace memory with no
 * copy in between: adjacent PRP entries are merged, each range is looked
 * up in the DMA table once and memcpy'd; memory without an fd goes
 * through pdk_emu_dma_read/write straight into the namespace. An IOVA the
 * client did not map is a Data Transfer Error, never a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nvme_private.h"

#define PRP_CHUNK 64 /* list entries read at a time */

/* ---- namespaces ---- */

static int store_file(struct nvme_ctrl *c, uint64_t size)
{
	const char *path = c->cfg.file;
	struct stat st;
	const char *why = NULL;

	c->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (c->fd < 0 || fstat(c->fd, &st))
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	/* one controller per file: two would corrupt each other's data */
	else if (flock(c->fd, LOCK_EX | LOCK_NB))
		why = "in use by another device";
	else if ((uint64_t)st.st_size < size && ftruncate(c->fd, (off_t)size))
		why = strerror(errno);
	else if ((c->store = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
				  c->fd, 0)) == MAP_FAILED)
		why = strerror(errno);
	if (why == NULL)
		return 0;
	c->store = NULL;
	pdk_emu_dev_error(c->dev, "knob 'file': %s (%llu bytes): %s", path,
			  (unsigned long long)size, why);
	return -EINVAL;
}

static int store_mem(struct nvme_ctrl *c, uint64_t size)
{
	/* untouched blocks cost nothing and read as zeroes */
	c->store = mmap(NULL, size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (c->store != MAP_FAILED)
		return 0;
	c->store = NULL;
	pdk_emu_dev_error(c->dev, "knob 'ns-size': cannot map %llu bytes of "
			  "namespaces: %s", (unsigned long long)size, strerror(errno));
	return -ENOMEM;
}

int nvme_ns_open(struct nvme_ctrl *c)
{
	uint64_t size = c->cfg.nns * c->cfg.ns_size;
	int rc = c->cfg.file ? store_file(c, size) : store_mem(c, size);

	c->store_size = size;
	if (rc)
		return rc;
	c->ns = calloc(c->cfg.nns, sizeof(*c->ns));
	if (c->ns == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < c->cfg.nns; i++) {
		c->ns[i].data = c->store + i * c->cfg.ns_size;
		c->ns[i].nlba = c->cfg.ns_size >> c->cfg.lbads;
	}
	return 0;
}

void nvme_ns_close(struct nvme_ctrl *c)
{
	if (c->store)
		munmap(c->store, c->store_size);
	if (c->fd >= 0)
		close(c->fd); /* drops the lock */
	free(c->ns);
	c->store = NULL;
	c->ns = NULL;
	c->fd = -1;
}

/* Make written data durable (a no-op for memory). 0 or -errno. */
int nvme_ns_sync(struct nvme_ctrl *c)
{
	/* the mapping is shared: its dirty pages are the file's page cache */
	if (c->fd >= 0 && fdatasync(c->fd))
		return -errno;
	return 0;
}

/* ---- PRPs ---- */

/* A transfer in progress: the pending host range grows while adjacent. */
struct xfer {
	struct nvme_ctrl *c;
	uint8_t *buf;  /* device side */
	uint64_t have; /* bytes of buf that exist; past them, zeroes */
	uint64_t done;
	uint64_t iova; /* pending host range */
	uint64_t len;
	bool to_host;
};

static int copy(struct xfer *x, uint64_t iova, uint8_t *p, uint64_t len)
{
	struct pdk_emu_dev *dev = x->c->dev;
	void *h = pdk_emu_dma_ptr(dev, iova, len, x->to_host);

	if (h && x->to_host)
		memcpy(h, p, len);
	else if (h)
		memcpy(p, h, len);
	else /* fd-less memory, several mappings, or a fault to report */
		return x->to_host ? pdk_emu_dma_write(dev, iova, p, len) :
				    pdk_emu_dma_read(dev, iova, p, len);
	return 0;
}

static int zero_fill(struct xfer *x, uint64_t iova, uint64_t len)
{
	static uint8_t zero[4096];
	int rc = 0;

	for (uint64_t n; rc == 0 && len; iova += n, len -= n) {
		n = PDK_MIN(len, (uint64_t)sizeof(zero));
		rc = copy(x, iova, zero, n);
	}
	return rc;
}

/* Move the pending range. */
static int flush_range(struct xfer *x)
{
	uint64_t real = x->have > x->done ? PDK_MIN(x->len, x->have - x->done) : 0;
	int rc = 0;

	if (real)
		rc = copy(x, x->iova, x->buf + x->done, real);
	if (rc == 0 && real < x->len)
		rc = zero_fill(x, x->iova + real, x->len - real);
	x->done += x->len;
	x->len = 0;
	return rc;
}

static int emit(struct xfer *x, uint64_t iova, uint64_t len)
{
	int rc = 0;

	if (x->len && x->iova + x->len == iova) {
		x->len += len;
		return 0;
	}
	if (x->len)
		rc = flush_range(x);
	x->iova = iova;
	x->len = len;
	return rc;
}

/*
 * The PRP list at `list` (it may start inside a page) describing `left`
 * bytes: when more entries are needed than the page holds, its last entry
 * points to the next list page.
 */
static uint16_t prp_list(struct xfer *x, uint64_t list, uint64_t left)
{
	const uint64_t ps = x->c->page_size;
	uint64_t ent[PRP_CHUNK];

	while (left) {
		uint64_t room = (ps - (list & (ps - 1))) / 8, pages = (left + ps - 1) / ps;
		uint64_t ndata = pages > room ? room - 1 : pages;

		/* qword entries; a list page must hold at least one data entry */
		if ((list & 7) || ndata == 0)
			return NVME_SC(PDK_NVME_SC_INVALID_PRP_OFFSET);
		for (uint64_t i = 0, n; i < ndata; i += n) {
			n = PDK_MIN(ndata - i, (uint64_t)PRP_CHUNK);
			if (pdk_emu_dma_read(x->c->dev, list + 8 * i, ent, 8 * n))
				return NVME_SC(PDK_NVME_SC_DATA_TRANSFER_ERROR);
			for (uint64_t j = 0; j < n; j++) {
				uint64_t len = PDK_MIN(ps, left);

				if (ent[j] & (ps - 1))
					return NVME_SC(PDK_NVME_SC_INVALID_PRP_OFFSET);
				if (emit(x, ent[j], len))
					return NVME_SC(PDK_NVME_SC_DATA_TRANSFER_ERROR);
				left -= len;
			}
		}
		if (left && pdk_emu_dma_read(x->c->dev, list + 8 * ndata, &list, 8))
			return NVME_SC(PDK_NVME_SC_DATA_TRANSFER_ERROR);
	}
	return 0;
}

static uint16_t prp_walk(struct xfer *x, uint64_t prp1, uint64_t prp2,
			 uint64_t len)
{
	const uint64_t ps = x->c->page_size;
	uint64_t first = PDK_MIN(len, ps - (prp1 & (ps - 1)));

	/* the first entry may start anywhere dword aligned (4.3) */
	if (prp1 & 3)
		return NVME_SC(PDK_NVME_SC_INVALID_PRP_OFFSET);
	if (emit(x, prp1, first))
		return NVME_SC(PDK_NVME_SC_DATA_TRANSFER_ERROR);
	len -= first;
	if (len == 0)
		return 0;
	if (len > ps)
		return prp_list(x, prp2, len);
	if (prp2 & (ps - 1)) /* a second data page starts at its beginning */
		return NVME_SC(PDK_NVME_SC_INVALID_PRP_OFFSET);
	return emit(x, prp2, len) ? NVME_SC(PDK_NVME_SC_DATA_TRANSFER_ERROR) : 0;
}

/*
 * Move `len` bytes between `buf` and the command's PRPs; with to_host,
 * bytes of buf past `have` are sent as zeroes. Returns a status.
 */
uint16_t nvme_prp_xfer(struct nvme_ctrl *c, const struct pdk_nvme_cmd *cmd,
		       uint8_t *buf, uint64_t len, uint64_t have, bool to_host)
{
	struct xfer x = {.c = c, .buf = buf, .have = have, .to_host = to_host};
	uint16_t st;

	if (len == 0)
		return 0;
	st = prp_walk(&x, cmd->prp1, cmd->prp2, len);
	if (st == 0 && flush_range(&x))
		st = NVME_SC(PDK_NVME_SC_DATA_TRANSFER_ERROR);
	if (st == NVME_SC(PDK_NVME_SC_DATA_TRANSFER_ERROR))
		nvme_count(&c->st.dma_errors);
	return st;
}

/* ---- the NVM command set (6) ---- */

static struct nvme_ns *ns_get(struct nvme_ctrl *c, uint32_t nsid)
{
	return nsid >= 1 && nsid <= c->cfg.nns ? &c->ns[nsid - 1] : NULL;
}

/* SLBA (CDW10-11) and NLB (CDW12 15:0, 0's based) inside the namespace. */
static uint16_t lba_range(const struct nvme_ns *ns, const struct pdk_nvme_cmd *cmd,
			  uint64_t *slba, uint32_t *nlb)
{
	*slba = cmd->cdw10 | (uint64_t)cmd->cdw11 << 32;
	*nlb = (cmd->cdw12 & 0xffff) + 1;
	if (*slba >= ns->nlba || *nlb > ns->nlba - *slba)
		return NVME_SC(PDK_NVME_SC_LBA_OUT_OF_RANGE);
	return 0;
}

/* Durable now: FUA, or the volatile write cache turned off. */
static uint16_t write_through(struct nvme_ctrl *c, const struct pdk_nvme_cmd *cmd)
{
	if (!(cmd->cdw12 & PDK_NVME_IO_FUA) && (c->feat.vwc & 1))
		return 0;
	return nvme_ns_sync(c) ? NVME_SC(PDK_NVME_SC_INTERNAL_ERROR) : 0;
}

static void rw_count(struct nvme_ctrl *c, bool write, uint64_t bytes)
{
	if (write) {
		c->writes++;
		c->bytes_written += bytes;
	} else {
		c->reads++;
		c->bytes_read += bytes;
	}
}

static uint16_t io_rw(struct nvme_ctrl *c, const struct pdk_nvme_cmd *cmd,
		      bool write)
{
	struct nvme_ns *ns = ns_get(c, cmd->nsid);
	unsigned sh = c->cfg.lbads;
	uint64_t slba, bytes;
	uint32_t nlb;
	uint16_t st;

	if (ns == NULL)
		return NVME_SC(PDK_NVME_SC_INVALID_NAMESPACE);
	bytes = (uint64_t)((cmd->cdw12 & 0xffff) + 1) << sh;
	if (c->mdts_bytes && bytes > c->mdts_bytes)
		return NVME_SC(PDK_NVME_SC_INVALID_FIELD);
	st = lba_range(ns, cmd, &slba, &nlb);
	if (st == 0)
		st = nvme_prp_xfer(c, cmd, ns->data + (slba << sh), bytes, bytes, !write);
	if (st == 0 && write)
		st = write_through(c, cmd);
	if (st == 0)
		rw_count(c, write, bytes);
	return st;
}

/* Write Zeroes moves no data: MDTS does not apply. */
static uint16_t io_zeroes(struct nvme_ctrl *c, const struct pdk_nvme_cmd *cmd)
{
	struct nvme_ns *ns = ns_get(c, cmd->nsid);
	uint64_t slba;
	uint32_t nlb;
	uint16_t st;

	if (ns == NULL)
		return NVME_SC(PDK_NVME_SC_INVALID_NAMESPACE);
	st = lba_range(ns, cmd, &slba, &nlb);
	if (st)
		return st;
	memset(ns->data + (slba << c->cfg.lbads), 0, (uint64_t)nlb << c->cfg.lbads);
	return write_through(c, cmd);
}

/* Flush one namespace or, with NSID FFFFFFFFh, all of them (one file). */
static uint16_t io_flush(struct nvme_ctrl *c, const struct pdk_nvme_cmd *cmd)
{
	if (cmd->nsid != PDK_NVME_NSID_ALL && ns_get(c, cmd->nsid) == NULL)
		return NVME_SC(PDK_NVME_SC_INVALID_NAMESPACE);
	nvme_count(&c->st.flushes);
	return nvme_ns_sync(c) ? NVME_SC(PDK_NVME_SC_INTERNAL_ERROR) : 0;
}

uint16_t nvme_io_exec(struct nvme_ctrl *c, const struct pdk_nvme_cmd *cmd)
{
	if (cmd->flags & (PDK_NVME_CMD_FUSE_MASK | PDK_NVME_CMD_PSDT_MASK))
		return NVME_SC(PDK_NVME_SC_INVALID_FIELD); /* no fusing, no SGLs */
	switch (cmd->opc) {
	case PDK_NVME_OPC_FLUSH:
		return io_flush(c, cmd);
	case PDK_NVME_OPC_WRITE:
		return io_rw(c, cmd, true);
	case PDK_NVME_OPC_READ:
		return io_rw(c, cmd, false);
	case PDK_NVME_OPC_WRITE_ZEROES:
		return io_zeroes(c, cmd);
	default:
		return NVME_SC(PDK_NVME_SC_INVALID_OPCODE);
	}
}
