/* Launch-benchmark floor: bench_exec_trampoline PROGRAM [ARGS...] execs
 * PROGRAM at once. A static glibc program like fdlaunch, so it pays what any
 * launcher that is its own program pays on this machine (one more exec and
 * glibc's static start-up) and nothing else: fdlaunch minus this is the work
 * fdlaunch itself does. Exit 125 when the exec fails. */
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2) return 125;
  execv(argv[1], argv + 1);
  return 125;
}
