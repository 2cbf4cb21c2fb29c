/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pdk-bench-emu-nvme: how many commands the zero-latency emulated NVMe
 * controller completes per second, with the leanest possible host (this
 * program: one queue pair, PRP1/PRP2/PRP list prepared once, no checks),
 * so that the figure is the model's ceiling, not a driver's. The device
 * runs in this process on its own thread, pinned with --dev-cpu.
 *
 * --inline runs the model's poll on this thread instead (no socket, no
 * second core) and reports the CPU time it spends per command, measured
 * with the thread's CPU clock: a figure that other load on the machine
 * does not move, unlike the two-thread IOPS.
 *
 *   pdk-bench-emu-nvme [--seconds N] [--qd N] [--bs BYTES] [--write]
 *                      [--ns-size MiB] [--cpu N] [--dev-cpu N] [--inline]
 *                      [--quick]
 */
#include <errno.h>
#include <getopt.h>
#include <linux/pci_regs.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <pdk_emu.h>
#include <pdk_emu_nvme.h>
#include <pdk_log.h>
#include <pdk_nvme_spec.h>

#include "emu_private.h"
#include "vu_client.h"

#define IOVA 0x10000000ull
#define MEM (64u << 20)
#define BUF_OFF (1u << 20) /* data buffers from here */
#define WARM_IOVA (IOVA + (48u << 20)) /* 128 KiB + its PRP list */

struct opts {
	double seconds;
	unsigned qd;
	unsigned bs;
	bool write;
	bool inline_poll;
	uint64_t ns_size;
	int cpu, dev_cpu;
};

struct bench {
	struct pdk_emu_dev *dev;
	bool inline_poll;
	uint64_t poll_ns; /* thread CPU time in the model's poll (--inline) */
	struct vuc c;
	struct pdk_vfio_user_region r;
	uint8_t *bar, *mem;
	struct pdk_nvme_cmd *asq, *sq;
	struct pdk_nvme_cpl *acq, *cq;
	uint32_t qsize, sq_tail, cq_head, ahead;
	uint8_t phase, aphase;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* --inline: the device's work happens here, timed. */
static void kick(struct bench *b)
{
	uint64_t t;

	if (!b->inline_poll)
		return;
	t = cpu_ns();
	b->dev->model->poll(b->dev);
	b->poll_ns += cpu_ns() - t;
}

static int die(const char *what)
{
	fprintf(stderr, "pdk-bench-emu-nvme: %s\n", what);
	exit(1);
}

/* One admin command, polled; its status. */
static uint16_t admin(struct bench *b, struct pdk_nvme_cmd cmd)
{
	static uint16_t cid;
	double end = now_s() + 5;
	uint32_t slot = cid % 32;

	cmd.cid = cid++;
	b->asq[slot] = cmd;
	pdk_emu_wr32(b->bar, pdk_nvme_sq_doorbell(0, 0), (slot + 1) % 32);
	while ((__atomic_load_n(&b->acq[b->ahead].status, __ATOMIC_ACQUIRE) & 1) != b->aphase) {
		kick(b);
		if (now_s() > end)
			die("admin command timed out");
	}
	cmd.cid = b->acq[b->ahead].status & 0xfffe;
	if (++b->ahead == 32) {
		b->ahead = 0;
		b->aphase ^= 1;
	}
	pdk_emu_wr32(b->bar, pdk_nvme_cq_doorbell(0, 0), b->ahead);
	return cmd.cid;
}

/* The device on its thread, reached over the socket. */
static void attach_socket(struct bench *b, const char *sock, int fd)
{
	if (pdk_emu_dev_start(b->dev) || vuc_connect(&b->c, sock) ||
	    vuc_bus_master(&b->c, true) ||
	    vuc_dma_map(&b->c, IOVA, MEM, fd, 0, VFIO_USER_DMA_F_READ | VFIO_USER_DMA_F_WRITE))
		die("cannot start, connect or map memory");
	close(fd);
	b->bar = vuc_map_bar(&b->c, 0, &b->r);
	if (b->bar == NULL)
		die("cannot map BAR0");
}

/* --inline: no thread, no socket; memory put in the DMA table directly. */
static void attach_inline(struct bench *b, int fd)
{
	struct vfio_user_dma_map m = {.argsz = sizeof(m), .addr = IOVA, .size = MEM,
				      .flags = VFIO_USER_DMA_F_READ | VFIO_USER_DMA_F_WRITE};

	if (emu_dma_map(b->dev, &m, fd)) /* takes the fd */
		die("cannot map memory");
	b->dev->cfg.hw[PCI_COMMAND] |= PCI_COMMAND_MASTER;
	b->bar = pdk_emu_bar_mem(b->dev, 0);
}

static void setup(struct bench *b, const struct opts *o, const char *sock)
{
	char spec[256], err[512];
	int fd, n = snprintf(spec, sizeof(spec), "nvme,socket=%s,idle-us=0,ns-size=%llu,qdepth=1024",
			     sock, (unsigned long long)o->ns_size);

	if (o->dev_cpu >= 0)
		snprintf(spec + n, sizeof(spec) - (size_t)n, ",cpu=%d", o->dev_cpu);
	b->dev = pdk_emu_dev_create(spec, err, sizeof(err));
	fd = vuc_memfd(MEM, (void **)&b->mem);
	if (b->dev == NULL || fd < 0)
		die(b->dev ? "no memory" : err);
	b->inline_poll = o->inline_poll;
	if (b->inline_poll)
		attach_inline(b, fd);
	else
		attach_socket(b, sock, fd);
	b->asq = (void *)b->mem;
	b->acq = (void *)(b->mem + 0x1000);
	b->sq = (void *)(b->mem + 0x10000);
	b->cq = (void *)(b->mem + 0x40000);
	b->phase = b->aphase = 1;
	pdk_emu_wr32(b->bar, PDK_NVME_REG_AQA, PDK_NVME_AQA(32, 32));
	pdk_emu_wr64(b->bar, PDK_NVME_REG_ASQ, IOVA);
	pdk_emu_wr64(b->bar, PDK_NVME_REG_ACQ, IOVA + 0x1000);
	pdk_emu_wr32(b->bar, PDK_NVME_REG_CC, PDK_NVME_CC_EN | 6u << PDK_NVME_CC_IOSQES_SHIFT |
						      4u << PDK_NVME_CC_IOCQES_SHIFT);
	for (double end = now_s() + 5; !(pdk_emu_rd32(b->bar, PDK_NVME_REG_CSTS) & 1);) {
		kick(b);
		if (now_s() > end)
			die("controller not ready");
	}
}

static void queues(struct bench *b)
{
	b->qsize = 1024;
	if (admin(b, (struct pdk_nvme_cmd){.opc = PDK_NVME_OPC_CREATE_IO_CQ,
					   .prp1 = IOVA + 0x40000,
					   .cdw10 = (b->qsize - 1) << 16 | 1, .cdw11 = 1}) ||
	    admin(b, (struct pdk_nvme_cmd){.opc = PDK_NVME_OPC_CREATE_IO_SQ,
					   .prp1 = IOVA + 0x10000,
					   .cdw10 = (b->qsize - 1) << 16 | 1,
					   .cdw11 = 1u << 16 | 1}))
		die("cannot create the I/O queues");
}

/* The command for slot i: its own buffer (and PRP list), a spread LBA. */
static struct pdk_nvme_cmd io_cmd(const struct opts *o, unsigned i, uint64_t n)
{
	uint64_t buf = IOVA + BUF_OFF + (uint64_t)i * (o->bs + 4096);
	uint64_t list = IOVA + (32u << 20) + (uint64_t)i * 4096;
	uint64_t nlba = o->ns_size / 512, blocks = o->bs / 512;
	struct pdk_nvme_cmd c = {.opc = o->write ? PDK_NVME_OPC_WRITE : PDK_NVME_OPC_READ,
				 .nsid = 1, .cid = (uint16_t)i, .prp1 = buf,
				 .cdw12 = (uint32_t)blocks - 1};
	uint64_t lba = (n * 2654435761u) % (nlba - blocks);

	lba -= lba % blocks;
	c.cdw10 = (uint32_t)lba;
	if (o->bs > 8192)
		c.prp2 = list;
	else if (o->bs > 4096)
		c.prp2 = buf + 4096;
	return c;
}

static void lists(struct bench *b, const struct opts *o)
{
	for (unsigned i = 0; i < o->qd; i++) {
		uint64_t *l = (void *)(b->mem + (32u << 20) + i * 4096);
		uint64_t buf = IOVA + BUF_OFF + (uint64_t)i * (o->bs + 4096);

		for (unsigned p = 1; p < o->bs / 4096; p++)
			l[p - 1] = buf + p * 4096ull;
	}
}

/*
 * Write the whole namespace once, untimed: the first touch of each page of
 * anonymous memory is a page fault (microseconds), which would otherwise
 * be measured instead of the model.
 */
static void warm_up(struct bench *b, const struct opts *o)
{
	uint64_t *list = (void *)(b->mem + (WARM_IOVA - IOVA) + 131072);

	for (unsigned p = 1; p < 32; p++)
		list[p - 1] = WARM_IOVA + p * 4096ull;
	for (uint64_t lba = 0; lba < o->ns_size / 512; lba += 256) {
		struct pdk_nvme_cmd c = {.opc = PDK_NVME_OPC_WRITE, .nsid = 1,
					 .prp1 = WARM_IOVA, .prp2 = WARM_IOVA + 131072,
					 .cdw10 = (uint32_t)lba, .cdw11 = (uint32_t)(lba >> 32),
					 .cdw12 = 255, .cid = 0};
		double end = now_s() + 5;

		b->sq[b->sq_tail] = c;
		b->sq_tail = (b->sq_tail + 1) % b->qsize;
		pdk_emu_wr32(b->bar, pdk_nvme_sq_doorbell(1, 0), b->sq_tail);
		while ((__atomic_load_n(&b->cq[b->cq_head].status, __ATOMIC_ACQUIRE) & 1) !=
		       b->phase) {
			kick(b);
			if (now_s() > end)
				die("warm-up write timed out");
		}
		if (b->cq[b->cq_head].status & 0xfffe)
			die("warm-up write failed");
		if (++b->cq_head == b->qsize) {
			b->cq_head = 0;
			b->phase ^= 1;
		}
		pdk_emu_wr32(b->bar, pdk_nvme_cq_doorbell(1, 0), b->cq_head);
	}
}

static uint64_t run(struct bench *b, const struct opts *o, double *secs)
{
	uint64_t done = 0, issued = 0;
	double t0 = now_s(), end = t0 + o->seconds;

	for (unsigned i = 0; i < o->qd; i++, issued++) {
		b->sq[b->sq_tail] = io_cmd(o, i, issued);
		b->sq_tail = (b->sq_tail + 1) % b->qsize;
	}
	pdk_emu_wr32(b->bar, pdk_nvme_sq_doorbell(1, 0), b->sq_tail);
	b->poll_ns = 0;
	while (1) {
		unsigned n = 0;

		kick(b);
		while ((__atomic_load_n(&b->cq[b->cq_head].status, __ATOMIC_ACQUIRE) & 1) ==
		       b->phase) {
			uint16_t cid = b->cq[b->cq_head].cid;

			if (++b->cq_head == b->qsize) {
				b->cq_head = 0;
				b->phase ^= 1;
			}
			b->sq[b->sq_tail] = io_cmd(o, cid, issued++);
			b->sq_tail = (b->sq_tail + 1) % b->qsize;
			n++;
		}
		if (n == 0)
			continue;
		done += n;
		pdk_emu_wr32(b->bar, pdk_nvme_cq_doorbell(1, 0), b->cq_head);
		pdk_emu_wr32(b->bar, pdk_nvme_sq_doorbell(1, 0), b->sq_tail);
		if ((done & 0x3ff) < n && now_s() >= end)
			break;
	}
	*secs = now_s() - t0;
	return done;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"seconds", required_argument, NULL, 't'}, {"qd", required_argument, NULL, 'q'},
		{"bs", required_argument, NULL, 'b'}, {"write", no_argument, NULL, 'w'},
		{"cpu", required_argument, NULL, 'c'}, {"dev-cpu", required_argument, NULL, 'd'},
		{"quick", no_argument, NULL, 'k'}, {"inline", no_argument, NULL, 'i'},
		{"ns-size", required_argument, NULL, 'n'},
		{NULL, 0, NULL, 0}};
	int ch;

	*o = (struct opts){.seconds = 3, .qd = 64, .bs = 4096, .cpu = -1, .dev_cpu = -1,
			   .ns_size = 256ull << 20};
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 't': o->seconds = atof(optarg); break;
		case 'q': o->qd = (unsigned)atoi(optarg); break;
		case 'b': o->bs = (unsigned)atoi(optarg); break;
		case 'w': o->write = true; break;
		case 'c': o->cpu = atoi(optarg); break;
		case 'd': o->dev_cpu = atoi(optarg); break;
		case 'k': o->seconds = 0.5; break;
		case 'i': o->inline_poll = true; break;
		case 'n': o->ns_size = strtoull(optarg, NULL, 0) << 20; break;
		default: return -1;
		}
	}
	if (o->qd == 0 || o->qd > 512 || o->bs < 512 || o->bs % 512 || o->bs > 131072 ||
	    (o->bs > 4096 && o->bs % 4096) || o->seconds <= 0 || o->ns_size < (1u << 20))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct bench b = {0};
	struct pdk_emu_nvme_stats st;
	struct opts o;
	char sock[64];
	uint64_t n;
	double secs;

	if (parse(argc, argv, &o)) {
		fprintf(stderr, "usage: pdk-bench-emu-nvme [--seconds N] [--qd 1..512] "
			"[--bs 512..131072] [--write] [--ns-size MiB] [--cpu N] [--dev-cpu N] "
			"[--inline] [--quick]\n");
		return 2;
	}
	if (o.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(o.cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	pdk_log_set_level(NULL, PDK_LOG_WARNING);
	snprintf(sock, sizeof(sock), "/tmp/pdk-bench-emu-nvme.%d.sock", (int)getpid());
	setup(&b, &o, sock);
	queues(&b);
	warm_up(&b, &o);
	lists(&b, &o);
	n = run(&b, &o, &secs);
	pdk_emu_nvme_stats(b.dev, &st);
	if (o.inline_poll)
		printf("emu nvme %s bs %u qd %u inline: the model spends %.0f ns of CPU per "
		       "command (%llu commands)\n", o.write ? "write" : "read", o.bs, o.qd,
		       (double)b.poll_ns / (double)n, (unsigned long long)st.commands);
	else
		printf("emu nvme %s bs %u qd %u: %.0f IOPS, %.1f MiB/s, %.0f ns per command "
		       "(%llu commands, %.2f s)\n", o.write ? "write" : "read", o.bs, o.qd,
		       (double)n / secs, (double)n * o.bs / secs / (1 << 20),
		       secs * 1e9 / (double)n, (unsigned long long)st.commands, secs);
	if (!o.inline_poll) {
		vuc_unmap_region(&b.r, b.bar);
		vuc_close(&b.c);
	}
	pdk_emu_dev_destroy(b.dev);
	return 0;
}
