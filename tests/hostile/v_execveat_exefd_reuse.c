/* The one allowed exec is execveat(exe_fd, "", .., AT_EMPTY_PATH), and exe_fd
 * is close-on-exec. Probe every fd number 0..255 with that exact shape: the
 * old exe_fd number must be gone (EBADF), every other number is EPERM. A
 * re-exec would be visible to the harness (/proc/PID/exe, no DONE). Reports
 * how many numbers answered each way; any other answer is reported as is. */
#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  char* args[] = {argv[0], NULL};
  char* env[] = {NULL};
  int eperm = 0, ebadf = 0, other = 0, other_errno = 0;
  for (long fd = 0; fd < 256; ++fd) {
    long rc = syscall(SYS_execveat, fd, "", args, env, (long)AT_EMPTY_PATH);
    if (rc < 0 && errno == EPERM) {
      ++eperm;
    } else if (rc < 0 && errno == EBADF) {
      ++ebadf;
    } else {
      ++other;
      other_errno = errno;
    }
  }
  char line[128];
  snprintf(line, sizeof line, "INFO eperm=%d ebadf=%d other=%d\n", eperm, ebadf, other);
  say(line);
  /* At most one number (the old exe_fd) may answer EBADF. */
  if (other) {
    errno = other_errno;
    report("execveat-exefd-shape", -1);
  } else {
    errno = ebadf <= 1 ? EPERM : EBADF;
    report("execveat-exefd-shape", -1);
  }
  hostile_finish();
  return 0;
}
