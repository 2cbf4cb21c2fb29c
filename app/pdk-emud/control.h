/* SPDX-License-Identifier: BSD-3-Clause */
/* pdk-emud's control socket (--control PATH); see control.c. */
#ifndef EMUD_CONTROL_H
#define EMUD_CONTROL_H

#include <pdk_emu.h>

/* Listen on `path` and serve requests for devs[0..n) on a thread. 0 or -errno. */
int control_start(const char *path, struct pdk_emu_dev *const *devs, unsigned n);
/* Stop serving and remove the socket (before the devices go). */
void control_stop(void);

#endif /* EMUD_CONTROL_H */
