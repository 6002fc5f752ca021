/* A workload given a released secret at fd 5: copies it to fd 1, then tries
 * to change it through fd 5 (write, ftruncate) and reports on fd 1 whether
 * either went through. Exits 0 when it read at least one byte. */
#include <unistd.h>

static void Say(const char* s, size_t n) {
  ssize_t ignored = write(1, s, n);
  (void)ignored;
}

int main(void) {
  char buf[4096];
  ssize_t total = 0, n;
  while ((n = read(5, buf, sizeof(buf))) > 0) {
    Say(buf, (size_t)n);
    total += n;
  }
  Say("\n--\n", 4);
  if (write(5, "x", 1) >= 0) {
    Say("WROTE\n", 6);
  } else {
    Say("no write\n", 9);
  }
  if (ftruncate(5, 0) == 0) {
    Say("TRUNCATED\n", 10);
  } else {
    Say("no truncate\n", 12);
  }
  return total > 0 ? 0 : 1;
}
