/* Syscall storm for the sensor benchmarks: N rounds of open, write, read, close on one file.
 * Usage: storm FILE ROUNDS  -> prints the elapsed nanoseconds of the loop on stdout. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
	if (argc != 3) {
		fprintf(stderr, "usage: %s FILE ROUNDS\n", argv[0]);
		return 2;
	}
	long rounds = atol(argv[2]);
	char buf[64] = {0};
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < rounds; i++) {
		int fd = open(argv[1], O_RDWR | O_CREAT, 0600);
		if (fd < 0) return 1;
		if (write(fd, buf, sizeof buf) < 0) return 1;
		if (pread(fd, buf, sizeof buf, 0) < 0) return 1;
		close(fd);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%lld\n", (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec));
	return 0;
}
