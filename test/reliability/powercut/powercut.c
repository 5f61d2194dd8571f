/*
 * LD_PRELOAD shim that models a power cut which loses the page cache. For every SQLite file it tracks (names
 * ending in .db, .db-wal, .db-journal) it keeps a shadow "<file>.durable" holding what the disk would hold: the
 * file as of its last fsync/fdatasync. Writes and truncations since are kept in memory, per inode, and applied
 * to the shadow when any descriptor of that inode is synced (as the kernel does: fsync flushes the inode, not
 * the descriptor — the agent fsyncs its WAL through a second, read-only descriptor); a sync covers the writes
 * made before it began, not those made while it runs. Closing a descriptor
 * does not make anything durable. SIGKILL the process and the .durable files are the state after the cut, in
 * the strictest model: nothing unsynced survives. Directory fsyncs are not modelled: creating or unlinking a
 * file is taken as durable at once.
 *
 * A crash is not a cut: SIGKILL the process but keep the live files (the page cache survives a process) and
 * start the next one under the shim. A .durable shadow left by the crashed process is kept as the disk's state
 * — the new process does not get to call what it finds durable — and whatever the live file holds beyond it
 * (differing 4 KiB blocks, a different length) is pending until the new process syncs that inode. So a crash,
 * a restart and a cut any time later are modelled as one machine whose page cache outlived the process.
 *
 * POWERCUT_FSYNC_DELAY_MS=N: every fsync/fdatasync of a tracked file takes N ms longer (an SD card's fsync),
 * which widens every window between a commit and its durability.
 *
 * Build: gcc -shared -fPIC -O2 -o powercut.so powercut.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define MAX_FD 4096
#define MAX_FILES 64

struct op {
  struct op *next;
  unsigned long long n; /* order of recording, so a sync applies exactly what was written before it began */
  off_t off;
  size_t len; /* (size_t)-1 marks a truncate to `off` */
  unsigned char data[];
};

struct file {
  int used;
  dev_t dev;
  ino_t ino;
  char path[4096];
  int shadow; /* fd of <path>.durable */
  struct op *head, *tail;
  unsigned long long recorded;
};

static struct file files[MAX_FILES];
static int fd_file[MAX_FD]; /* index into files + 1; 0 = not tracked */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int ready;

static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);
static ssize_t (*real_write)(int, const void *, size_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_ftruncate64)(int, off_t);
static int (*real_close)(int);
static int (*real_unlink)(const char *);
static int (*real_unlinkat)(int, const char *, int);

static void init(void) {
  if (ready) return;
  real_open = dlsym(RTLD_NEXT, "open");
  real_open64 = dlsym(RTLD_NEXT, "open64");
  real_openat = dlsym(RTLD_NEXT, "openat");
  real_pwrite64 = dlsym(RTLD_NEXT, "pwrite64");
  real_write = dlsym(RTLD_NEXT, "write");
  real_fsync = dlsym(RTLD_NEXT, "fsync");
  real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
  real_ftruncate64 = dlsym(RTLD_NEXT, "ftruncate64");
  real_close = dlsym(RTLD_NEXT, "close");
  real_unlink = dlsym(RTLD_NEXT, "unlink");
  real_unlinkat = dlsym(RTLD_NEXT, "unlinkat");
  ready = 1;
}

static int ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int wanted(const char *path) {
  return path[0] == '/' && (ends_with(path, ".db") || ends_with(path, ".db-wal") || ends_with(path, ".db-journal"));
}

static void free_ops(struct file *f) {
  struct op *o = f->head;
  while (o) {
    struct op *next = o->next;
    free(o);
    o = next;
  }
  f->head = f->tail = NULL;
}

static int fsync_delay_ms = -1;

/* A crashed predecessor's page cache: every 4 KiB block where the live file differs from the shadow, and the
 * live length, become pending writes of this process (applied to the shadow at the inode's next sync). */
static void pending_from_predecessor(struct file *f, int fd);
static void push_op(struct file *f, off_t off, const void *buf, size_t len);

/* First open of an inode: its shadow starts as a copy of what is on disk now — that content is durable — unless a
 * crashed predecessor left a shadow, which stays the durable state (see above). */
static void track(int fd, const char *path) {
  if (fd < 0 || fd >= MAX_FD || !wanted(path)) return;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return;
  pthread_mutex_lock(&lock);
  int slot = -1;
  for (int i = 0; i < MAX_FILES; i++) {
    if (files[i].used && files[i].dev == st.st_dev && files[i].ino == st.st_ino) {
      slot = i;
      break;
    }
  }
  if (slot < 0) {
    for (int i = 0; i < MAX_FILES && slot < 0; i++) if (!files[i].used) slot = i;
    if (slot < 0) abort();
    struct file *f = &files[slot];
    char shadow[4200];
    snprintf(shadow, sizeof shadow, "%s.durable", path);
    f->head = f->tail = NULL;
    f->recorded = 0;
    /* The descriptor being opened may be write-only (O_APPEND to create a file with a mode): read through our own. */
    int rfd = real_open(path, O_RDONLY | O_CLOEXEC);
    if (rfd < 0) abort();
    f->shadow = real_open(shadow, O_RDWR | O_CLOEXEC);
    if (f->shadow >= 0) {
      pending_from_predecessor(f, rfd);
    } else {
      f->shadow = real_open(shadow, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (f->shadow < 0) abort();
      unsigned char buf[65536];
      off_t off = 0;
      ssize_t n;
      while ((n = pread(rfd, buf, sizeof buf, off)) > 0) {
        real_pwrite64(f->shadow, buf, (size_t)n, off);
        off += n;
      }
    }
    real_close(rfd);
    f->used = 1;
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    snprintf(f->path, sizeof f->path, "%s", path);
  }
  fd_file[fd] = slot + 1;
  pthread_mutex_unlock(&lock);
}

static struct file *of(int fd) { return fd >= 0 && fd < MAX_FD && fd_file[fd] ? &files[fd_file[fd] - 1] : NULL; }

static void record(int fd, off_t off, const void *buf, size_t len) {
  pthread_mutex_lock(&lock);
  struct file *f = of(fd);
  if (f) push_op(f, off, buf, len);
  pthread_mutex_unlock(&lock);
}

static void push_op(struct file *f, off_t off, const void *buf, size_t len) {
  struct op *o = malloc(sizeof *o + (len == (size_t)-1 ? 0 : len));
  if (!o) abort();
  o->next = NULL;
  o->n = ++f->recorded;
  o->off = off;
  o->len = len;
  if (len != (size_t)-1) memcpy(o->data, buf, len);
  if (f->tail) f->tail->next = o;
  else f->head = o;
  f->tail = o;
}

static void pending_from_predecessor(struct file *f, int fd) {
  struct stat live;
  if (fstat(fd, &live) != 0) abort();
  push_op(f, live.st_size, NULL, (size_t)-1); /* the length first: blocks past the shadow's end then extend it */
  unsigned char a[4096], b[4096];
  for (off_t off = 0; off < live.st_size; off += (off_t)sizeof a) {
    ssize_t n = pread(fd, a, sizeof a, off);
    if (n <= 0) break;
    ssize_t m = pread(f->shadow, b, (size_t)n, off);
    if (m != n || memcmp(a, b, (size_t)n) != 0) push_op(f, off, a, (size_t)n);
  }
}

#define OPEN_BODY(call)                \
  mode_t mode = 0;                     \
  if (flags & (O_CREAT | O_TMPFILE)) { \
    va_list ap;                        \
    va_start(ap, flags);               \
    mode = (mode_t)va_arg(ap, int);    \
    va_end(ap);                        \
  }                                    \
  int fd = call;                       \
  if (fd >= 0) track(fd, path);        \
  return fd;

int open(const char *path, int flags, ...) { init(); OPEN_BODY(real_open(path, flags, mode)) }
int open64(const char *path, int flags, ...) { init(); OPEN_BODY(real_open64(path, flags, mode)) }
int openat(int dirfd, const char *path, int flags, ...) { init(); OPEN_BODY(real_openat(dirfd, path, flags, mode)) }

ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off) {
  init();
  ssize_t n = real_pwrite64(fd, buf, len, off);
  if (n > 0 && of(fd)) record(fd, off, buf, (size_t)n);
  return n;
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off) { return pwrite64(fd, buf, len, off); }

ssize_t write(int fd, const void *buf, size_t len) {
  init();
  if (!of(fd)) return real_write(fd, buf, len);
  off_t off = lseek(fd, 0, SEEK_CUR);
  ssize_t n = real_write(fd, buf, len);
  if (n > 0) record(fd, off, buf, (size_t)n);
  return n;
}

/* What was written before the sync began is durable once it returns; writes made while a (slow) fsync runs are
 * not covered by it, as on a real disk, and wait for the next one. */
static int do_sync(int fd, int (*real)(int)) {
  init();
  if (fsync_delay_ms < 0) {
    const char *d = getenv("POWERCUT_FSYNC_DELAY_MS");
    fsync_delay_ms = d ? atoi(d) : 0;
  }
  pthread_mutex_lock(&lock);
  struct file *f = of(fd);
  unsigned long long upto = f ? f->recorded : 0;
  ino_t ino = f ? f->ino : 0;
  pthread_mutex_unlock(&lock);
  if (fsync_delay_ms > 0 && f) usleep((useconds_t)fsync_delay_ms * 1000);
  int r = real(fd);
  pthread_mutex_lock(&lock);
  if (r == 0 && f && f->used && f->ino == ino) {
    while (f->head && f->head->n <= upto) {
      struct op *o = f->head;
      if (o->len == (size_t)-1) real_ftruncate64(f->shadow, o->off);
      else real_pwrite64(f->shadow, o->data, o->len, o->off);
      f->head = o->next;
      free(o);
    }
    if (!f->head) f->tail = NULL;
  }
  pthread_mutex_unlock(&lock);
  return r;
}

int fsync(int fd) { return do_sync(fd, real_fsync); }
int fdatasync(int fd) { return do_sync(fd, real_fdatasync); }

int ftruncate64(int fd, off_t len) {
  init();
  int r = real_ftruncate64(fd, len);
  if (r == 0 && of(fd)) record(fd, len, NULL, (size_t)-1);
  return r;
}

int ftruncate(int fd, off_t len) { return ftruncate64(fd, len); }

int close(int fd) {
  init();
  if (fd >= 0 && fd < MAX_FD) {
    pthread_mutex_lock(&lock);
    fd_file[fd] = 0;
    pthread_mutex_unlock(&lock);
  }
  return real_close(fd);
}

static void forget(const char *path) {
  if (!wanted(path)) return;
  pthread_mutex_lock(&lock);
  for (int i = 0; i < MAX_FILES; i++) {
    if (files[i].used && strcmp(files[i].path, path) == 0) {
      char shadow[4200];
      snprintf(shadow, sizeof shadow, "%s.durable", path);
      real_unlink(shadow);
      real_close(files[i].shadow);
      free_ops(&files[i]);
      files[i].used = 0;
      for (int fd = 0; fd < MAX_FD; fd++) if (fd_file[fd] == i + 1) fd_file[fd] = 0;
    }
  }
  pthread_mutex_unlock(&lock);
}

int unlink(const char *path) {
  init();
  int r = real_unlink(path);
  if (r == 0) forget(path);
  return r;
}

int unlinkat(int dirfd, const char *path, int flags) {
  init();
  int r = real_unlinkat(dirfd, path, flags);
  if (r == 0) forget(path);
  return r;
}
