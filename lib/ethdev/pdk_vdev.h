/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Virtual devices: ports made by software from --vdev strings such as
 * "net_null0" or "net_ring1,peer=net_ring0". A vdev driver registers with
 * PDK_VDEV_REGISTER; at pdk_eal_init() the "vdev" bus hands each --vdev to
 * the driver whose name starts it ("net_null" for "net_null0"), in command
 * line order, and pdk_eal_cleanup() closes what is left.
 *
 * Options after the first comma are key=value pairs. Drivers describe them
 * with a table of struct pdk_vdev_arg; pdk_vdev_args_parse() rejects an
 * unknown key or a bad value with a message that lists the valid ones.
 */
#ifndef PDK_VDEV_H
#define PDK_VDEV_H

#include <pdk_common.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pdk_vdev_driver {
	const char *name;  /* prefix of device names: "net_null" */
	const char *usage; /* valid options: "size=<14-9000>,copy=0|1" */
	/* Create the device `name` with options `args` ("" when none):
	 * 0 or a negative errno after logging why. */
	int (*probe)(const char *name, const char *args);
	/* Destroy it: 0 or a negative errno. */
	int (*remove)(const char *name);
	struct pdk_vdev_driver *next; /* owned by the bus */
};

PDK_API void pdk_vdev_driver_register(struct pdk_vdev_driver *drv);

#define PDK_VDEV_REGISTER(drv)                                                \
	static void __attribute__((constructor)) pdk_vdev_reg_##drv(void)     \
	{                                                                     \
		pdk_vdev_driver_register(&(drv));                             \
	}

/*
 * Create a vdev now ("net_null2,size=128"), as --vdev would: 0 or a
 * negative errno (-ENOENT: no driver of that name; -EEXIST: exists).
 */
PDK_API int pdk_vdev_create(const char *devargs);
/* Remove a vdev created by --vdev or pdk_vdev_create(): 0, -ENOENT. */
PDK_API int pdk_vdev_remove(const char *name);

/* One option a driver accepts: parse(value, ctx) returns 0 or -EINVAL. */
struct pdk_vdev_arg {
	const char *key;
	int (*parse)(const char *value, void *ctx);
};

/*
 * Parse "k1=v1,k2=v2" against `spec` (terminated by a {NULL} entry),
 * calling each key's parse(). -EINVAL for an unknown key, a missing '=' or
 * a value parse() refused; the log names the device and `usage`.
 */
PDK_API int pdk_vdev_args_parse(const char *dev, const char *args,
				const struct pdk_vdev_arg *spec,
				const char *usage, void *ctx);

/* A whole decimal number in [min, max]: 0 or -EINVAL. */
PDK_API int pdk_vdev_arg_uint(const char *value, unsigned long min,
			      unsigned long max, unsigned long *out);

#ifdef __cplusplus
}
#endif
#endif /* PDK_VDEV_H */
