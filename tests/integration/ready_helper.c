/* A workload that stays alive at a known point: writes "READY\n" to fd 1,
 * then sleeps until killed, so a test can inspect the confined process
 * (its seccomp filter, /proc/PID/fd, /proc/PID/exe) while it runs. */
#include <time.h>
#include <unistd.h>

int main(void) {
  static const char kReady[] = "READY\n";
  if (write(1, kReady, sizeof(kReady) - 1) != (ssize_t)(sizeof(kReady) - 1)) return 3;
  for (;;) {
    struct timespec ts = {1, 0};
    nanosleep(&ts, NULL);
  }
}
