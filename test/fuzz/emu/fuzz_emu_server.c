/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the emulator's message handling. The input (after its first
 * byte) is written as a raw byte stream to a testdev device's connection,
 * the way a hostile client would; the server frames, decodes and handles
 * it until the stream ends. Byte 0 bit 0 says whether VERSION was already
 * negotiated. The server may answer with errors or hang up, never crash,
 * hang or leak.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "emu_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pdk_emu_dev *dev;

static void drain(int s)
{
	char buf[4096];

	while (recv(s, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sp[2];

	if (size < 1 || size > 65536)
		return 0;
	if (dev == NULL) {
		char err[512];

		pdk_log_set_level(NULL, PDK_LOG_ERR);
		dev = pdk_emu_dev_create("testdev,socket=/nonexistent/fuzz.sock,"
					 "max-dma-maps=64,max-xfer=64k,vectors=8",
					 err, sizeof(err));
		if (dev == NULL)
			abort();
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp))
		return 0;
	/* a full reply buffer makes the server hang up instead of blocking */
	fcntl(sp[0], F_SETFL, O_NONBLOCK);
	if (write(sp[1], data + 1, size - 1) != (ssize_t)(size - 1)) {
		close(sp[0]);
		close(sp[1]);
		return 0;
	}
	shutdown(sp[1], SHUT_WR); /* every wait ends at the end of the input */
	dev->conn_fd = sp[0];
	dev->negotiated = data[0] & 1;
	pdk_vfio_user_caps_init(&dev->peer);
	for (int i = 0; i < 4096 && dev->conn_fd >= 0; i++) {
		emu_conn_service(dev, 1);
		drain(sp[1]);
	}
	emu_conn_close(dev, "fuzz input done");
	close(sp[1]);
	return 0;
}
