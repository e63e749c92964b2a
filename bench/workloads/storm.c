/* Syscall storms for the sensor benchmarks. Prints the elapsed nanoseconds of the loop on stdout.
 *   storm rw FILE ROUNDS        open(O_RDWR|O_CREAT), write, pread, close of one file
 *   storm read FILE ROUNDS      open(O_RDONLY), read, close of one unchanged file (what in-kernel folding collapses)
 *   storm distinct DIR ROUNDS   open(O_WRONLY|O_CREAT|O_TRUNC), write, close of ROUNDS distinct files (nothing folds)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
	if (argc != 4) {
		fprintf(stderr, "usage: %s rw|read|distinct PATH ROUNDS\n", argv[0]);
		return 2;
	}
	const char *mode = argv[1], *path = argv[2];
	long rounds = atol(argv[3]);
	char buf[64] = {0}, name[4096];
	struct timespec t0, t1;
	if (!strcmp(mode, "read")) {
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || write(fd, buf, sizeof buf) != sizeof buf) return 1;
		close(fd);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < rounds; i++) {
		int fd;
		if (!strcmp(mode, "rw")) {
			fd = open(path, O_RDWR | O_CREAT, 0600);
			if (fd < 0 || write(fd, buf, sizeof buf) < 0 || pread(fd, buf, sizeof buf, 0) < 0) return 1;
		} else if (!strcmp(mode, "read")) {
			fd = open(path, O_RDONLY);
			if (fd < 0 || read(fd, buf, sizeof buf) < 0) return 1;
		} else if (!strcmp(mode, "distinct")) {
			snprintf(name, sizeof name, "%s/f%ld", path, i);
			fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
			if (fd < 0 || write(fd, buf, sizeof buf) < 0) return 1;
		} else {
			return 2;
		}
		close(fd);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%lld\n", (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec));
	return 0;
}
