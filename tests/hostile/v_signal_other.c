/* Signals: kill/tkill/tgkill of the victim (SIGKILL), a process-group kill,
 * pidfd_send_signal, rt_(tg)sigqueueinfo. kill, tkill and tgkill are EPERM
 * whatever the target,
 * even towards the workload itself (signal 0 probe, tgkill naming itself);
 * the harness checks the victim is alive. */
#include <signal.h>

#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  report("kill-victim", syscall(SYS_kill, g_args.victim_pid, (long)SIGKILL));
  report("kill-victim-hi", syscall(SYS_kill, g_args.victim_pid | HI32, (long)SIGKILL));
  report("tkill-victim", syscall(SYS_tkill, g_args.victim_pid, (long)SIGKILL));
  report("tgkill-victim", syscall(SYS_tgkill, g_args.victim_pid, g_args.victim_pid, (long)SIGKILL));
  report("tgkill-self-victim",
         syscall(SYS_tgkill, (long)getpid(), g_args.victim_pid, (long)SIGKILL));
  report("kill-victim-group", syscall(SYS_kill, -g_args.victim_pid, (long)SIGKILL));
  report("pidfd-send-signal", syscall(SYS_pidfd_send_signal, 0L, (long)SIGKILL, 0L, 0L));
  siginfo_t info;
  memset(&info, 0, sizeof info);
  info.si_signo = SIGKILL;
  info.si_code = SI_QUEUE;
  report("rt-sigqueueinfo-victim",
         syscall(SYS_rt_sigqueueinfo, g_args.victim_pid, (long)SIGKILL, &info));
  report("rt-tgsigqueueinfo-victim", syscall(SYS_rt_tgsigqueueinfo, g_args.victim_pid,
                                             g_args.victim_pid, (long)SIGKILL, &info));
  report("kill-self-0", syscall(SYS_kill, (long)getpid(), 0L));
  report("kill-zero-0", syscall(SYS_kill, 0L, 0L));
  report("tgkill-self-0", syscall(SYS_tgkill, (long)getpid(), (long)syscall(SYS_gettid), 0L));
  report("tkill-self-0", syscall(SYS_tkill, (long)syscall(SYS_gettid), 0L));
  hostile_finish();
  return 0;
}
