/* A workload for the attestor's observation tests: statically linked (no
 * loader, no files opened after exec), it writes "RUN\n" to fd 1 as its
 * first action, then sleeps until killed, so a test can see when it ran
 * and observe it while it runs. */
#include <time.h>
#include <unistd.h>

int main(void) {
  static const char kRun[] = "RUN\n";
  if (write(1, kRun, sizeof(kRun) - 1) != (ssize_t)(sizeof(kRun) - 1)) return 3;
  for (;;) {
    struct timespec ts = {1, 0};
    nanosleep(&ts, NULL);
  }
}
