/* A workload that must never run in the refusal tests: if it does, it says
 * so on fd 1 and exits with a status fdlaunch never uses for itself. */
#include <unistd.h>

int main(void) {
  static const char kRan[] = "RAN\n";
  ssize_t ignored = write(1, kRan, sizeof(kRan) - 1);
  (void)ignored;
  return 42;
}
