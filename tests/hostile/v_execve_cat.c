/* execve of another program that reads the secret by path and writes it to
 * our stdout: /bin/cat SECRET. EPERM (execve is never allowed). */
#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  char* args[] = {(char*)"/bin/cat", (char*)g_args.secret_path, NULL};
  char* env[] = {NULL};
  report("execve-cat", syscall(SYS_execve, "/bin/cat", args, env));
  report("execveat-cat", syscall(SYS_execveat, (long)AT_FDCWD, "/bin/cat", args, env, 0L));
  hostile_finish();
  return 0;
}
