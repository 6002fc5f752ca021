/* The re-attestation workload: reads its fd 0 (a pipe the benchmark holds
 * the write end of) until end of file, then exits 0, so it runs, blocked in
 * read(2), for as long as the benchmark re-attests it. Linked -static, like
 * every program fdlaunch runs. */
#include <unistd.h>

int main(void) {
  char buf[64];
  while (read(0, buf, sizeof(buf)) > 0) {
  }
  return 0;
}
