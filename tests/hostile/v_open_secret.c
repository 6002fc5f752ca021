/* Open the secret by its path with every open flavour: open, openat, openat2,
 * creat (a new file in the scratch dir), name_to_handle_at +
 * open_by_handle_at. EPERM each. */
#include <linux/openat2.h>

#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  long fd = report("open", syscall(SYS_open, g_args.secret_path, (long)O_RDONLY));
  if (fd >= 0) exfil_fd(fd);
  fd = report("openat", syscall(SYS_openat, (long)AT_FDCWD, g_args.secret_path, (long)O_RDONLY));
  if (fd >= 0) exfil_fd(fd);
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = O_RDONLY;
  fd =
      report("openat2", syscall(SYS_openat2, (long)AT_FDCWD, g_args.secret_path, &how, sizeof how));
  if (fd >= 0) exfil_fd(fd);
  char path[4096];
  snprintf(path, sizeof path, "%s/created-by-workload", g_args.scratch_dir);
  report("creat", syscall(SYS_creat, path, 0600L));
  struct {
    unsigned int handle_bytes;
    int handle_type;
    unsigned char f_handle[128];
  } fh;
  fh.handle_bytes = sizeof fh.f_handle;
  int mount_id = 0;
  report("name-to-handle-at",
         syscall(SYS_name_to_handle_at, (long)AT_FDCWD, g_args.secret_path, &fh, &mount_id, 0L));
  fd = report("open-by-handle-at",
              syscall(SYS_open_by_handle_at, (long)kFdInput, &fh, (long)O_RDONLY));
  if (fd >= 0) exfil_fd(fd);
  hostile_finish();
  return 0;
}
