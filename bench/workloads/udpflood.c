/* Loopback UDP flood for the live-capture benchmark: sends N datagrams of SIZE bytes to 127.0.0.1:PORT as fast as
 * it can, in batches with sendmmsg. Usage: udpflood PORT COUNT SIZE -> prints elapsed nanoseconds. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

int main(int argc, char **argv) {
	if (argc != 4) {
		fprintf(stderr, "usage: %s PORT COUNT SIZE\n", argv[0]);
		return 2;
	}
	int port = atoi(argv[1]);
	long count = atol(argv[2]);
	int size = atoi(argv[3]);
	/* A receiver that never reads: datagrams die in its queue instead of provoking ICMP port-unreachable replies. */
	int sink = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	if (bind(sink, (struct sockaddr *)&to, sizeof to) != 0) return 1;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0) return 1;
	static char payload[65536];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	memset(msgs, 0, sizeof msgs);
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = payload;
		iov[i].iov_len = size;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	long sent = 0;
	while (sent < count) {
		int n = count - sent < BATCH ? (int)(count - sent) : BATCH;
		int r = sendmmsg(fd, msgs, n, 0);
		if (r > 0) sent += r;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%lld\n", (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec));
	return 0;
}
