/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Device emulation: PCI devices served over vfio-user sockets, behaving like
 * a device behind a real IOMMU and vfio-pci. The framework owns config
 * space (permission tables, BAR sizing, capabilities, MSI-X), BAR memory
 * (one memfd the client maps), the DMA table, interrupts, resets, faults
 * and the socket; a device model (struct pdk_emu_model) supplies the
 * registers and what the device does.
 *
 * Threading: each device has one thread. Every model hook runs on it, and
 * so do the message handlers, so a model needs no locks: the DMA table
 * cannot change while a hook runs. Only the pdk_emu_dev_* lifecycle,
 * fault and inject calls are meant for other threads.
 */
#ifndef PDK_EMU_H
#define PDK_EMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pdk_common.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pdk_emu_dev;

/* A knob a model accepts on the device line (`name=value`). */
struct pdk_emu_knob {
	const char *name;
	const char *help; /* one line, e.g. "N: bytes the engine moves per poll" */
	const char *def;  /* default value text, NULL when none */
};

/* BAR flags for pdk_emu_dev_add_bar(). */
#define PDK_EMU_BAR_MEM64 (1u << 0)    /* 64-bit BAR (uses the next slot) */
#define PDK_EMU_BAR_PREFETCH (1u << 1) /* prefetchable */
#define PDK_EMU_BAR_NO_MMAP (1u << 2)  /* never mappable: messages only */

/* PCI identity of the device. */
struct pdk_emu_pci_ids {
	uint16_t vendor;
	uint16_t device;
	uint16_t subsys_vendor;
	uint16_t subsys;
	uint32_t class_code; /* 24 bits: base, sub, prog-if */
	uint8_t revision;
};

/*
 * A device model. Hooks other than init/fini run on the device thread.
 * Only `name` and `init` are required.
 */
struct pdk_emu_model {
	const char *name; /* device TYPE on the pdk-emud command line */
	const char *help; /* one line for --help */
	const struct pdk_emu_knob *knobs; /* model knobs, ended by {NULL} */
	size_t priv_size; /* zeroed bytes at pdk_emu_dev_priv() */

	/*
	 * Declare the device: ids, BARs, traps, MSI-X, capabilities; read
	 * knobs. Returns 0 or -errno (with pdk_emu_dev_error() for a bad knob).
	 */
	int (*init)(struct pdk_emu_dev *dev);
	/* Free what init allocated (the framework frees priv). */
	void (*fini)(struct pdk_emu_dev *dev);
	/*
	 * Device reset (power on, VFIO_USER_DEVICE_RESET, FLR, client gone):
	 * BAR memory is already zeroed; write the registers' reset values and
	 * drop in-flight work.
	 */
	void (*reset)(struct pdk_emu_dev *dev);
	/*
	 * The device thread's work: poll doorbells in BAR memory, move data.
	 * Do a bounded amount and return > 0 when something was done (the
	 * thread keeps spinning), 0 when idle (it backs off and sleeps).
	 * Called only while a client is connected and the device is alive.
	 */
	int (*poll)(struct pdk_emu_dev *dev);
	/*
	 * Slow-path accesses (VFIO_USER_REGION_READ/WRITE): bar_read runs
	 * before the bytes are copied out of BAR memory (refresh a computed
	 * register), bar_write after they were stored (side effects). Mapped
	 * accesses bypass both: registers with side effects are either polled
	 * or covered by pdk_emu_dev_trap().
	 */
	void (*bar_read)(struct pdk_emu_dev *dev, unsigned bar, uint64_t off,
			 uint32_t len);
	void (*bar_write)(struct pdk_emu_dev *dev, unsigned bar, uint64_t off,
			  uint32_t len);
	/*
	 * Inject a model fault by name (pdk_emu_dev_inject(), SIGUSR2 in
	 * pdk-emud). Returns 0 or -EINVAL for an unknown fault.
	 */
	int (*inject)(struct pdk_emu_dev *dev, const char *fault);
	/* A client finished VERSION (true) or went away (false). */
	void (*client)(struct pdk_emu_dev *dev, bool connected);
};

/* Register a model (built-in models are always known). -EEXIST, -EINVAL. */
PDK_API int pdk_emu_model_register(const struct pdk_emu_model *m);
PDK_API const struct pdk_emu_model *pdk_emu_model_find(const char *name);
/* Iterate: pass NULL for the first; returns NULL after the last. */
PDK_API const struct pdk_emu_model *pdk_emu_model_next(const struct pdk_emu_model *m);
/* The framework's own knobs (socket, msix, ...), ended by {NULL}. */
PDK_API const struct pdk_emu_knob *pdk_emu_common_knobs(void);

/* ---- lifecycle (any thread) ---- */

/*
 * Create a device from "TYPE,socket=PATH,key=value,...". On error returns
 * NULL, sets errno and writes a message naming the bad knob and the valid
 * ones into `err`.
 */
PDK_API struct pdk_emu_dev *pdk_emu_dev_create(const char *spec, char *err,
					       size_t errlen);
/* Listen on the socket and start the device thread. 0 or -errno. */
PDK_API int pdk_emu_dev_start(struct pdk_emu_dev *dev);
/* Stop the thread, drop the client, remove the socket, free. */
PDK_API void pdk_emu_dev_destroy(struct pdk_emu_dev *dev);
PDK_API const char *pdk_emu_dev_socket(const struct pdk_emu_dev *dev);
/*
 * Listen on a UNIX stream socket at `path`, first removing a socket file a
 * dead server left there (pdk-emud's control socket uses it too). The fd
 * (SOCK_CLOEXEC, plus `flags` such as SOCK_NONBLOCK) or -EADDRINUSE (a
 * live server has it), -EEXIST (a file that is not a socket), -ENAMETOOLONG.
 */
PDK_API int pdk_emu_listen(const char *path, int flags);
PDK_API const char *pdk_emu_dev_name(const struct pdk_emu_dev *dev);

/* Framework faults. */
enum pdk_emu_fault {
	/* The device dies: BAR memory and every read return all-ones. */
	PDK_EMU_FAULT_ALLONES = 1,
	/*
	 * Surprise removal: signal the request IRQ, wait `remove-grace-ms`
	 * for the client to let go, then cut it off and refuse new ones.
	 */
	PDK_EMU_FAULT_REMOVE = 2,
};
/* Trigger a framework fault (asynchronous). 0 or -EINVAL. */
PDK_API int pdk_emu_dev_fault(struct pdk_emu_dev *dev, enum pdk_emu_fault f);
/* Run the model's inject hook on the device thread; its result. */
PDK_API int pdk_emu_dev_inject(struct pdk_emu_dev *dev, const char *fault);

struct pdk_emu_stats {
	uint64_t clients;      /* connections served */
	uint64_t msgs;         /* commands handled */
	uint64_t msg_errors;   /* error replies sent */
	uint64_t slow_reads;   /* REGION_READ of BARs */
	uint64_t slow_writes;  /* REGION_WRITE of BARs */
	uint64_t dma_maps;     /* DMA_MAP accepted */
	uint64_t dma_faults;   /* DMA refused (unmapped, permission, BAR, bus master) */
	uint64_t irqs;         /* vectors signalled */
	uint64_t irqs_lost;    /* raised with no eventfd */
	uint64_t resets;
};
PDK_API void pdk_emu_dev_stats(struct pdk_emu_dev *dev, struct pdk_emu_stats *st);

/* ---- declaration, from the model's init ---- */

PDK_API void *pdk_emu_dev_priv(struct pdk_emu_dev *dev);
PDK_API void pdk_emu_dev_set_ids(struct pdk_emu_dev *dev,
				 const struct pdk_emu_pci_ids *ids);
/* BAR `bar` (0..5) of `size` bytes (power of two >= 4096). */
PDK_API int pdk_emu_dev_add_bar(struct pdk_emu_dev *dev, unsigned bar,
				uint64_t size, unsigned flags);
/* Keep [off, off+len) of a BAR out of the mappable areas (max 4 per BAR). */
PDK_API int pdk_emu_dev_trap(struct pdk_emu_dev *dev, unsigned bar,
			     uint64_t off, uint64_t len);
/*
 * MSI-X with `vectors` vectors unless the `vectors` knob says otherwise.
 * With msix=shared the table goes at `shared_off` of BAR `shared_bar`
 * (the register page) and the PBA right after it; with msix=own they get
 * BAR `own_bar`, which must be free.
 */
PDK_API int pdk_emu_dev_set_msix(struct pdk_emu_dev *dev, unsigned vectors,
				 unsigned shared_bar, uint64_t shared_off,
				 unsigned own_bar);
/* A read-only capability (id, then `len` body bytes); its config offset. */
PDK_API int pdk_emu_dev_add_cap(struct pdk_emu_dev *dev, uint8_t id,
				const void *body, size_t len);
/* The value of knob `name` (model or common), its default, or NULL. */
PDK_API const char *pdk_emu_dev_knob(const struct pdk_emu_dev *dev,
				     const char *name);
/* Knob as a number (0x.., k/m/g suffixes). 0, -ENOENT, -EINVAL (logged). */
PDK_API int pdk_emu_dev_knob_u64(struct pdk_emu_dev *dev, const char *name,
				 uint64_t *out);
/*
 * Knob as a number within [lo, hi]. 0 (`*out` untouched when the knob is
 * absent and has no default) or -EINVAL with an error naming the knob.
 */
PDK_API int pdk_emu_dev_knob_range(struct pdk_emu_dev *dev, const char *name,
				   uint64_t lo, uint64_t hi, uint64_t *out);
/* Record why init failed ("stuck: expected 0 or 1"); shown by create. */
PDK_API void pdk_emu_dev_error(struct pdk_emu_dev *dev, const char *fmt, ...)
	PDK_FORMAT(2, 3);

/* ---- runtime, from model hooks (device thread) ---- */

/* Server-side view of BAR memory (the bytes the client maps). */
PDK_API void *pdk_emu_bar_mem(struct pdk_emu_dev *dev, unsigned bar);
PDK_API uint64_t pdk_emu_bar_size(const struct pdk_emu_dev *dev, unsigned bar);
/* Vectors configured (after knobs); 0 without MSI-X. */
PDK_API unsigned pdk_emu_msix_vectors(const struct pdk_emu_dev *dev);

/*
 * DMA through the emulated IOMMU: only what the client mapped. Returns 0
 * or: -EFAULT IOVA not mapped (IOMMU fault), -EACCES mapping lacks the
 * permission, -EXDEV target is this device's own BAR, -EPERM bus master
 * disabled, -ENODEV device dead or removed, -ECONNRESET client gone.
 * Spans several adjacent mappings; fd-less mappings go through
 * VFIO_USER_DMA_READ/WRITE messages.
 */
PDK_API int pdk_emu_dma_read(struct pdk_emu_dev *dev, uint64_t iova,
			     void *buf, size_t len);
PDK_API int pdk_emu_dma_write(struct pdk_emu_dev *dev, uint64_t iova,
			      const void *buf, size_t len);
/*
 * Zero-copy: a pointer to [iova, iova+len) when it lies in one mapping
 * with an fd and the permission; NULL and errno (codes above) otherwise.
 * A failed lookup is not counted as a fault: fall back to
 * pdk_emu_dma_read/write, which report it. The pointer is valid until the
 * hook returns, or while pdk_emu_dma_gen() is unchanged.
 */
PDK_API void *pdk_emu_dma_ptr(struct pdk_emu_dev *dev, uint64_t iova,
			      size_t len, bool write);
/* The IOVA of the last -EFAULT (the first byte that was not mapped). */
PDK_API uint64_t pdk_emu_dma_fault_iova(const struct pdk_emu_dev *dev);
/* Changes whenever a mapping is added or removed. */
PDK_API uint64_t pdk_emu_dma_gen(const struct pdk_emu_dev *dev);
/* COMMAND.Bus Master as the client last wrote it. */
PDK_API bool pdk_emu_dev_bus_master(const struct pdk_emu_dev *dev);

/*
 * Signal MSI-X vector `vec` (pending in the PBA while masked). 0,
 * -ENOENT no eventfd for it (counted as lost), -EINVAL no such vector.
 */
PDK_API int pdk_emu_irq_raise(struct pdk_emu_dev *dev, unsigned vec);
/* Signal the error IRQ (VFIO_PCI_ERR_IRQ_INDEX). 0 or -ENOENT. */
PDK_API int pdk_emu_irq_error(struct pdk_emu_dev *dev);

/*
 * Register access in BAR memory shared with the client. Loads acquire and
 * stores release, pairing with the client's ordered MMIO accesses (a
 * doorbell written after the descriptor it announces). Offsets must be
 * naturally aligned.
 */
static inline uint32_t pdk_emu_rd32(const void *bar, uint64_t off)
{
	return __atomic_load_n((const uint32_t *)(const void *)((const char *)bar + off),
			       __ATOMIC_ACQUIRE);
}

static inline uint64_t pdk_emu_rd64(const void *bar, uint64_t off)
{
	return __atomic_load_n((const uint64_t *)(const void *)((const char *)bar + off),
			       __ATOMIC_ACQUIRE);
}

static inline void pdk_emu_wr32(void *bar, uint64_t off, uint32_t v)
{
	__atomic_store_n((uint32_t *)(void *)((char *)bar + off), v, __ATOMIC_RELEASE);
}

static inline void pdk_emu_wr64(void *bar, uint64_t off, uint64_t v)
{
	__atomic_store_n((uint64_t *)(void *)((char *)bar + off), v, __ATOMIC_RELEASE);
}

/* Read a doorbell and clear it in one step (the client may write again). */
static inline uint32_t pdk_emu_xchg32(void *bar, uint64_t off, uint32_t v)
{
	return __atomic_exchange_n((uint32_t *)(void *)((char *)bar + off), v,
				   __ATOMIC_ACQ_REL);
}

#ifdef __cplusplus
}
#endif
#endif /* PDK_EMU_H */
