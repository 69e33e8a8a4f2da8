/*
 * The tiny guest's disk workload: 64 KiB writes with O_DIRECT over a bounded file, in a loop,
 * until the VM is powered off. Once a second it prints one line on stdout (the serial console):
 *
 *   VBGUEST WORK t=<s since start> ops=<writes this interval> mbps=<MiB/s this interval>
 *                p50_ms=<median write latency this interval> p99_ms=<...> max_ms=<...>
 *
 * Every field is about the interval since the previous line (t is cumulative), so a reader can
 * weight intervals by their length (t - previous t). Latency is one pwrite(), timed with
 * CLOCK_MONOTONIC. Before the first line the file is written once in full (prefill), so the
 * timed loop overwrites allocated blocks and measures the I/O path, not ext4's allocator.
 *
 * usage: workload [-f FILE] [-m MiB] [-b KiB] [-s]
 *   -f FILE  the file written (default /data/workload.dat)
 *   -m MiB   the bounded region, wrapping (default 64)
 *   -b KiB   the block size (default 64)
 *   -s       fdatasync after every write (then each write is also a flush of the disk's cache)
 * Build: gcc -static -O2 -o workload workload.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The nearest-rank percentile of a sorted array. */
static double pct(const double *v, size_t n, double p) {
    if (n == 0) return 0;
    size_t k = (size_t)(p / 100.0 * n + 0.999999);
    if (k < 1) k = 1;
    if (k > n) k = n;
    return v[k - 1];
}

static int write_full(int fd, const char *buf, size_t len, off_t off) {
    size_t done = 0;
    while (done < len) {
        ssize_t w = pwrite(fd, buf + done, len - done, off + done);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        done += (size_t)w;
    }
    return 0;
}

int main(int argc, char **argv) {
    const char *path = "/data/workload.dat";
    long region_mib = 64, block_kib = 64;
    int sync_each = 0, opt;
    while ((opt = getopt(argc, argv, "f:m:b:s")) != -1) {
        switch (opt) {
        case 'f': path = optarg; break;
        case 'm': region_mib = atol(optarg); break;
        case 'b': block_kib = atol(optarg); break;
        case 's': sync_each = 1; break;
        default:
            fprintf(stderr, "usage: %s [-f FILE] [-m MiB] [-b KiB] [-s]\n", argv[0]);
            return 2;
        }
    }
    size_t block = (size_t)block_kib * 1024;
    off_t region = (off_t)region_mib * 1024 * 1024;
    if (block == 0 || region < (off_t)block) {
        fprintf(stderr, "bad sizes\n");
        return 2;
    }
    region -= region % block;

    int fd = open(path, O_RDWR | O_CREAT | O_DIRECT, 0644);
    if (fd < 0) {
        printf("VBGUEST WORK FAIL open %s: %s\n", path, strerror(errno));
        fflush(stdout);
        return 1;
    }
    char *buf;
    if (posix_memalign((void **)&buf, 4096, block) != 0) return 1;
    /* Incompressible-ish data, changed every write so no layer can dedupe it away. */
    uint64_t x = 0x9E3779B97F4A7C15ull ^ (uint64_t)getpid();
    for (size_t i = 0; i < block; i += 8) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        memcpy(buf + i, &x, 8);
    }

    double t0 = now_s();
    for (off_t off = 0; off < region; off += block) {
        if (write_full(fd, buf, block, off) != 0) {
            printf("VBGUEST WORK FAIL prefill: %s\n", strerror(errno));
            fflush(stdout);
            return 1;
        }
    }
    fdatasync(fd);
    printf("VBGUEST WORK prefill %ld MiB in %.2f s, block %ld KiB, %s\n", region_mib,
           now_s() - t0, block_kib, sync_each ? "O_DIRECT+fdatasync" : "O_DIRECT");
    fflush(stdout);

    size_t cap = 1 << 16, n = 0;
    double *lat = malloc(cap * sizeof *lat);
    double start = now_s(), last = start;
    off_t off = 0;
    uint64_t seq = 0;
    for (;;) {
        memcpy(buf, &seq, sizeof seq); /* each block differs */
        seq++;
        double a = now_s();
        if (write_full(fd, buf, block, off) != 0 || (sync_each && fdatasync(fd) != 0)) {
            printf("VBGUEST WORK FAIL write at %lld: %s\n", (long long)off, strerror(errno));
            fflush(stdout);
            return 1;
        }
        double b = now_s();
        off += block;
        if (off >= region) off = 0;
        if (n == cap) {
            cap *= 2;
            lat = realloc(lat, cap * sizeof *lat);
        }
        lat[n++] = (b - a) * 1000.0;
        if (b - last >= 1.0) {
            qsort(lat, n, sizeof *lat, cmp_double);
            double mib = (double)n * block / (1024.0 * 1024.0);
            printf("VBGUEST WORK t=%.2f ops=%zu mbps=%.2f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n",
                   b - start, n, mib / (b - last), pct(lat, n, 50), pct(lat, n, 99), lat[n - 1]);
            fflush(stdout);
            n = 0;
            last = b;
        }
    }
}
