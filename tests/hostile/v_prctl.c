/* prctl: PR_SET_PTRACER (Yama exemption for a chosen tracer),
 * PR_SET_DUMPABLE, PR_SET_MM (rewrite exe/auxv of the process), each also with
 * high-32 junk in the option: EPERM. PR_SET_NAME too: the task name is shown
 * to every local user in /proc/PID/comm and /proc/PID/stat, so the workload
 * tries to name itself after the input's bytes (plain, with high-32 junk in the
 * option, and from a second thread that stays alive) and the harness reads
 * every task's name itself. Only PR_GET_NAME works. */
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "hostile.h"

static char g_name[16];

/* The input's bytes after "VETTED-INPUT-", at most 15 of them. */
static void name_from_input(void) {
  char buf[256];
  long n = syscall(SYS_pread64, (long)kFdInput, buf, sizeof buf - 1, 0L);
  if (n <= 0) n = 0;
  buf[n] = '\0';
  const char* mark = strstr(buf, "VETTED-INPUT-");
  const char* from = mark ? mark + strlen("VETTED-INPUT-") : buf;
  size_t len = strcspn(from, "\n");
  if (len > sizeof g_name - 1) len = sizeof g_name - 1;
  memcpy(g_name, from, len);
}

/* The thread's result, stored once: -errno or the return value. */
#define kNoResult (-100000L)
static long g_thread_result = kNoResult;

static int thread_main(void* arg) {
  (void)arg;
  long rc = syscall(SYS_prctl, (long)PR_SET_NAME, g_name, 0L, 0L, 0L);
  __atomic_store_n(&g_thread_result, rc < 0 ? -(long)errno : rc, __ATOMIC_RELEASE);
  /* Stays alive, so that the harness reads this task's name too; the
   * process's exit_group ends it. */
  for (;;) {
    struct timespec ts = {1, 0};
    syscall(SYS_nanosleep, &ts, NULL);
  }
  return 0;
}

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  report("set-ptracer-any",
         syscall(SYS_prctl, (long)PR_SET_PTRACER, (long)PR_SET_PTRACER_ANY, 0L, 0L, 0L));
  report("set-ptracer-hi",
         syscall(SYS_prctl, (long)PR_SET_PTRACER | HI32, g_args.victim_pid, 0L, 0L, 0L));
  report("set-dumpable", syscall(SYS_prctl, (long)PR_SET_DUMPABLE, 1L, 0L, 0L, 0L));
  report("set-mm-exe",
         syscall(SYS_prctl, (long)PR_SET_MM, (long)PR_SET_MM_EXE_FILE, (long)kFdInput, 0L, 0L));
  name_from_input();
  report("set-name-input", syscall(SYS_prctl, (long)PR_SET_NAME, g_name, 0L, 0L, 0L));
  report("set-name-input-hi", syscall(SYS_prctl, (long)PR_SET_NAME | HI32, g_name, 0L, 0L, 0L));
  /* A thread (CLONE_VM|CLONE_THREAD: the filter allows plain clone flags)
   * that names itself; the harness reads /proc/PID/task/TID/comm. */
  size_t stack_size = 64 << 10;
  char* stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  long tid = -1;
  if (stack != MAP_FAILED) {
    tid = clone(thread_main, stack + stack_size,
                CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM,
                NULL);
  }
  long result = kNoResult;
  for (int i = 0; tid > 0 && i < 1000 && result == kNoResult; ++i) {  /* up to 10 s */
    struct timespec ts = {0, 10 * 1000 * 1000};
    syscall(SYS_nanosleep, &ts, NULL);
    result = __atomic_load_n(&g_thread_result, __ATOMIC_ACQUIRE);
  }
  if (result == kNoResult) {
    report("set-name-thread", 0); /* no thread or no answer: the expectation (EPERM) fails */
  } else {
    errno = result < 0 ? (int)-result : 0;
    report("set-name-thread", result < 0 ? -1 : result);
  }
  char name[16] = {0};
  report("get-name", syscall(SYS_prctl, (long)PR_GET_NAME, name, 0L, 0L, 0L));
  hostile_finish();
  return 0;
}
