/* personality: READ_IMPLIES_EXEC / ADDR_NO_RANDOMIZE persist across exec and
 * weaken the process. EPERM (also the 0xffffffff query, which the contract
 * does not special-case). */
#include <sys/personality.h>

#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  report("read-implies-exec", syscall(SYS_personality, (long)READ_IMPLIES_EXEC));
  report("addr-no-randomize", syscall(SYS_personality, (long)ADDR_NO_RANDOMIZE));
  report("query", syscall(SYS_personality, 0xffffffffL));
  hostile_finish();
  return 0;
}
