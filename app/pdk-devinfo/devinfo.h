/* SPDX-License-Identifier: BSD-3-Clause */
/* pdk-devinfo's report, callable from main and from the unit tests. */
#ifndef DEVINFO_H
#define DEVINFO_H

#include <stdbool.h>
#include <stdio.h>

#include <pdk_vfio.h>

/* Exit codes: 0 done, 1 the device could not be inspected, 2 usage. */
#define DEVINFO_EXIT_FAIL 1
#define DEVINFO_EXIT_USAGE 2

/* Run with the application's arguments ("[--json] DEVICE"); the report
 * goes to out, usage errors to err. Returns the exit code. */
int devinfo_main(int argc, char **argv, FILE *out, FILE *err);

/* Print the report of an open device, as a table or JSON. */
int devinfo_print(struct pdk_vfio_dev *dev, bool json, FILE *out);

#endif /* DEVINFO_H */
