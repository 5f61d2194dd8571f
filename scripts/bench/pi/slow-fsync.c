/*
 * LD_PRELOAD shim for the Pi-class benchmark profile: every fsync/fdatasync takes EDGE_BENCH_FSYNC_MS longer, as
 * on an SD card (1-10 ms where this machine's disk takes ~0.2 ms). Nothing else changes: writes still reach the
 * page cache at full speed, which is what a card's controller cache does too.
 * Build: gcc -shared -fPIC -O2 -o slow-fsync.so slow-fsync.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

static void card_delay(void) {
  static long ms = -1;
  if (ms < 0) {
    const char *v = getenv("EDGE_BENCH_FSYNC_MS");
    ms = v ? atol(v) : 0;
  }
  if (ms > 0) {
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&t, &t) != 0) {}
  }
}

int fsync(int fd) {
  static int (*real)(int) = 0;
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  card_delay();
  return real(fd);
}

int fdatasync(int fd) {
  static int (*real)(int) = 0;
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  card_delay();
  return real(fd);
}
