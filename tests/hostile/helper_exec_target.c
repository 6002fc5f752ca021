/* Not a vector: the program a hostile workload tries to exec instead of the
 * measured one. If it ever runs, it says so on every channel it can write and
 * then behaves like a finished workload; the harness detects it through
 * /proc/PID/exe and the "EXECED-UNMEASURED" marker. */
#include "hostile.h"

int main(void) {
  static const char kMsg[] = "EXECED-UNMEASURED\n";
  exfil_buf(kMsg, sizeof kMsg - 1);
  hostile_finish();
  return 0;
}
