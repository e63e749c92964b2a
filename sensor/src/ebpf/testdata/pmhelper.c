/*
 * Workloads for the eBPF kernel tests: each mode makes a known, small set of syscalls so a
 * test can assert exactly what the sensor must report. Compiled by the tests with `cc`.
 *
 *   pmhelper writes PATH N          open(O_CREAT|O_WRONLY|O_TRUNC), N x write(1 byte), close
 *   pmhelper rename COMM PATH       prctl(PR_SET_NAME, COMM), then create+close+unlink PATH
 *   pmhelper connect IP PORT        TCP connect, write 5 bytes, close (prints the errno on failure)
 *   pmhelper serve IP PORT          listen, print "ready", accept one, read, close
 *   pmhelper sendto IP PORT N       UDP sendto N datagrams
 *   pmhelper burst N                N x open("/nonexistent/provmon-burst") (each fails: ENOENT)
 *   pmhelper open PATH              open, read, close
 *   pmhelper hold PATH FIFO         open PATH, 2 writes, open FIFO (blocks), 1 write, exit without close
 *   pmhelper setids                 setresuid(-1,-1,-1), setgid(getgid()): no-op credential calls
 *   pmhelper storm PATH N           N x (open, read 64, write 64, close) on PATH: the bench's syscall storm
 *   pmhelper exit CODE              exit(CODE)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int sockaddr_of(const char *ip, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, ip, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		*len = sizeof(*a4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, ip, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		*len = sizeof(*a6);
		return AF_INET6;
	}
	fprintf(stderr, "bad ip %s\n", ip);
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	const char *mode = argv[1];

	if (!strcmp(mode, "writes") && argc == 4) {
		int fd = open(argv[2], O_CREAT | O_WRONLY | O_TRUNC, 0644);
		long n = atol(argv[3]);
		if (fd < 0)
			return 1;
		for (long i = 0; i < n; i++)
			if (write(fd, "x", 1) != 1)
				return 1;
		return close(fd) ? 1 : 0;
	}
	if (!strcmp(mode, "rename") && argc == 4) {
		prctl(PR_SET_NAME, argv[2], 0, 0, 0);
		int fd = open(argv[3], O_CREAT | O_WRONLY, 0644);
		if (fd < 0)
			return 1;
		close(fd);
		return unlink(argv[3]) ? 1 : 0;
	}
	if (!strcmp(mode, "connect") && argc == 4) {
		struct sockaddr_storage ss;
		socklen_t len;
		int fam = sockaddr_of(argv[2], atoi(argv[3]), &ss, &len);
		int fd = socket(fam, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&ss, len)) {
			printf("errno %d\n", errno);
			return 1;
		}
		if (write(fd, "hello", 5) != 5)
			return 1;
		close(fd);
		return 0;
	}
	if (!strcmp(mode, "serve") && argc == 4) {
		struct sockaddr_storage ss;
		socklen_t len;
		char buf[64];
		int fam = sockaddr_of(argv[2], atoi(argv[3]), &ss, &len);
		int one = 1;
		int fd = socket(fam, SOCK_STREAM, 0);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 8))
			return 1;
		printf("ready\n");
		fflush(stdout);
		int c = accept(fd, NULL, NULL);
		if (c < 0)
			return 1;
		while (read(c, buf, sizeof(buf)) > 0)
			;
		close(c);
		close(fd);
		return 0;
	}
	if (!strcmp(mode, "sendto") && argc == 5) {
		struct sockaddr_storage ss;
		socklen_t len;
		int fam = sockaddr_of(argv[2], atoi(argv[3]), &ss, &len);
		int fd = socket(fam, SOCK_DGRAM, 0);
		long n = atol(argv[4]);
		for (long i = 0; i < n; i++)
			sendto(fd, "ping", 4, 0, (struct sockaddr *)&ss, len);
		close(fd);
		return 0;
	}
	if (!strcmp(mode, "burst") && argc == 3) {
		long n = atol(argv[2]);
		for (long i = 0; i < n; i++)
			open("/nonexistent/provmon-burst", O_RDONLY);
		return 0;
	}
	if (!strcmp(mode, "open") && argc == 3) {
		char buf[256];
		int fd = open(argv[2], O_RDONLY);
		if (fd < 0)
			return 1;
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
		return 0;
	}
	if (!strcmp(mode, "hold") && argc == 4) {
		int fd = open(argv[2], O_CREAT | O_WRONLY | O_TRUNC, 0644);
		if (fd < 0 || write(fd, "a\n", 2) != 2 || write(fd, "b\n", 2) != 2)
			return 1;
		int gate = open(argv[3], O_RDONLY);
		if (gate < 0 || write(fd, "c\n", 2) != 2)
			return 1;
		_exit(0);
	}
	if (!strcmp(mode, "setids") && argc == 2) {
		if (setresuid(-1, -1, -1))
			return 1;
		return setgid(getgid()) ? 1 : 0;
	}
	if (!strcmp(mode, "storm") && argc == 4) {
		char buf[64] = { 0 };
		long n = atol(argv[3]);
		for (long i = 0; i < n; i++) {
			int fd = open(argv[2], O_RDWR | O_CREAT, 0644);
			if (fd < 0 || read(fd, buf, sizeof(buf)) < 0 || write(fd, buf, sizeof(buf)) != sizeof(buf))
				return 1;
			close(fd);
		}
		return 0;
	}
	if (!strcmp(mode, "reads") && (argc == 4 || argc == 5)) {
		/* reads FILE N [GATE]: N rounds of open/read/close of FILE; with GATE, block on that fifo before exiting */
		char buf[64];
		long n = atol(argv[3]);
		for (long i = 0; i < n; i++) {
			int fd = open(argv[2], O_RDONLY);
			if (fd < 0 || read(fd, buf, sizeof(buf)) < 0)
				return 1;
			close(fd);
		}
		if (argc == 5 && open(argv[4], O_RDONLY) < 0)
			return 1;
		return 0;
	}
	if (!strcmp(mode, "readwrite") && argc == 3) {
		/* two reads, a write-open that appends, two reads: the write must split the fold */
		char buf[64];
		for (int round = 0; round < 2; round++) {
			for (int i = 0; i < 2; i++) {
				int fd = open(argv[2], O_RDONLY);
				if (fd < 0 || read(fd, buf, sizeof(buf)) < 0)
					return 1;
				close(fd);
			}
			if (round == 0) {
				int fd = open(argv[2], O_WRONLY | O_APPEND);
				if (fd < 0 || write(fd, "w\n", 2) != 2)
					return 1;
				close(fd);
			}
		}
		return 0;
	}
	if (!strcmp(mode, "connects") && argc == 5) {
		/* connects ADDR PORT N: N connect attempts (a closed port refuses them at once) */
		struct sockaddr_storage ss;
		socklen_t len;
		int fam = sockaddr_of(argv[2], atoi(argv[3]), &ss, &len);
		long n = atol(argv[4]);
		for (long i = 0; i < n; i++) {
			int fd = socket(fam, SOCK_STREAM, 0);
			if (fd < 0)
				return 1;
			connect(fd, (struct sockaddr *)&ss, len);
			close(fd);
		}
		return 0;
	}
	if (!strcmp(mode, "exit") && argc == 3)
		return atoi(argv[2]);
	fprintf(stderr, "usage: see pmhelper.c\n");
	return 2;
}
