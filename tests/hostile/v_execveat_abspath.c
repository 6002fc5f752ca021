/* execveat(exe_fd, "/abs/path", .., AT_EMPTY_PATH). The filter can only
 * compare the dirfd number and the flags; the path is a pointer it cannot
 * read, and with an absolute path the kernel ignores dirfd entirely. So on
 * the old exe_fd number the filter lets this through, and what stops it is
 * the workload's empty root: the path resolves to nothing (ENOENT), and the
 * unmeasured program never runs (the harness checks /proc/PID/exe and the
 * EXECED-UNMEASURED marker).
 *
 * Probes every number 0..255 with the shape the filter allows, and reports:
 * which number answered ENOENT (INFO line, compared by the harness with the
 * manifest's filter.exec_fd), that exactly one did, that every other number
 * was EPERM, and that the same number without AT_EMPTY_PATH is EPERM. */
#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  char path[4096];
  hostile_bin(path, sizeof path, "helper_exec_target");
  char* args[] = {path, NULL};
  char* env[] = {NULL};
  int enoent = 0, eperm = 0, other = 0, other_errno = 0;
  long enoent_fd = -1;
  for (long fd = 0; fd < 256; ++fd) {
    long rc = syscall(SYS_execveat, fd, path, args, env, (long)AT_EMPTY_PATH);
    if (rc < 0 && errno == ENOENT) {
      ++enoent;
      enoent_fd = fd;
    } else if (rc < 0 && errno == EPERM) {
      ++eperm;
    } else {
      ++other;
      other_errno = rc < 0 ? errno : 0;
    }
  }
  char line[128];
  snprintf(line, sizeof line, "INFO enoent=%d enoent_fd=%ld eperm=%d other=%d\n", enoent,
           enoent_fd, eperm, other);
  say(line);
  /* The one number the filter admits: ENOENT from the empty root. */
  errno = enoent == 1 ? ENOENT : (enoent == 0 ? EPERM : E2BIG);
  report("execveat-abspath-exefd", -1);
  /* Every other number: EPERM from the filter. */
  errno = other ? (other_errno ? other_errno : EEXIST) : (eperm == 255 ? EPERM : E2BIG);
  report("execveat-abspath-others", -1);
  /* The admitted number with other flags: EPERM. */
  report("execveat-abspath-exefd-noflags",
         enoent_fd >= 0 ? syscall(SYS_execveat, enoent_fd, path, args, env, 0L)
                        : (errno = ENOENT, -1L));
  hostile_finish();
  return 0;
}
